"""The apl stack: what runs (spec), how it runs (runner), and the command line (cli)."""
