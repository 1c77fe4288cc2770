import pytest

# Let failed asserts in the shared helpers show their values, as they do in the tests themselves.
pytest.register_assert_rewrite("tests.helpers.publishers")
