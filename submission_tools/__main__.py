"""Allow `python -m submission_tools` as a synonym of the `submit` command."""

from submission_tools.cli import main

main()
