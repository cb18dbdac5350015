"""Adapters: read the field's own corpus formats as records of the policyspeech schema.

Each adapter module has one entry point, ``records(...)``, that streams the source one
record at a time as ``(label, fields)`` pairs:

- ``label`` names where the record comes from, for error messages: ``FILE:LINE``.
- ``fields`` is a mapping of schema field names to raw values (text, lists of text), not
  yet validated; the import validates each one like a JSONL line (see
  :mod:`policyspeech.importing`). A record the adapter cannot build is an
  :class:`~policyspeech.errors.InvalidSpeechError` in place of the mapping, so that the
  import lists it with its label and goes on checking the rest.

A source that cannot be read at all (not the expected layout, not XML) raises
:class:`~policyspeech.errors.InvalidSpeechError` naming the file and the fix. Memory is
bounded by one source file, whatever the number of files.

- :mod:`policyspeech.adapters.parlamint`: ParlaMint TEI sittings, one record per utterance.
- :mod:`policyspeech.adapters.ungdc`: the UN General Debate Corpus release layout.
"""
