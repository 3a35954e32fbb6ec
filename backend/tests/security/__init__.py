"""Security findings of issue 11, one module per finding; each test fails on the code before the fix."""
