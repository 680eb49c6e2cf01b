"""The live monitor's engine: raw chunks in, decoded lines, status and alerts out.

Pieces: :mod:`assembler` (chunks to lines, same splitting rule as file reading so line
numbers agree with ``census`` on the capture), :mod:`decoder` (inline address decoding,
batched and cached), :mod:`scan` and :mod:`tracker` (records to live status and alerts),
:mod:`engine` (the loop tying a source, the capture, the terminal and the schedule).
"""
