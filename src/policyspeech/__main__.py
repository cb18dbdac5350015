"""``python -m policyspeech``: the same as the ``policyspeech`` command."""

from policyspeech.cli import main

main()
