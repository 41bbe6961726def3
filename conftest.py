"""Root pytest configuration: files that must not be imported as doctest modules."""

collect_ignore = ["feedback_lib/__main__.py", "bench/__main__.py"]
