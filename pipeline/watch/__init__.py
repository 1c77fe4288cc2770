"""Watched feeds: a client's new episodes picked up by themselves, processed once, announced to the VA.

``subscriptions`` adds, lists and removes the feeds (staff only); ``poll`` reads them (a conditional GET,
back-off on failures), decides what is new and hands it to the batch runner or the job queue;
``notice`` tells the VA; ``options.WatchOptions`` holds the ``[feeds]`` settings. It sits above the batch
runner and the queue, which it calls; ``castmill scheduler run`` polls it every minute.
"""

from pipeline.watch.options import WatchOptions
from pipeline.watch.poll import PollReport, poll_due, poll_feed
from pipeline.watch.subscriptions import FeedView, add_feed, list_feeds, remove_feed

__all__ = ["FeedView", "PollReport", "WatchOptions", "add_feed", "list_feeds", "poll_due", "poll_feed", "remove_feed"]
