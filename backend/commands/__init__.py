"""The command-line commands: each module parses its arguments, calls the library and prints.

Every module has build_parser(prog) -> ArgumentParser and run(args) -> int;
backend/scripts/*.py dispatch to them.
"""
