"""Client profiles and post templates, edited by staff."""
