"""Operator tooling: the `settlement` command line and what it does to orders and histories."""
