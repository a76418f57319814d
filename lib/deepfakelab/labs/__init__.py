"""The labs: what each lab's notebook and hidden checks work on, one package per lab.

- :mod:`.lab1` -- Lab 1, *How easy is it to create a deepfake?*: its synthetic media, the media
  pack an instructor may give instead, and the steps the notebook's cells call.
- :mod:`.lab2` -- Lab 2, *From data to dollars*: what its notebook shows, and the diagnoses its
  checks give.
- :mod:`.expected_time` -- how long each part of a lab takes, counted from its notebook by one
  rule for both labs.
- :mod:`.website` -- where the notebooks' links to the course website lead.

A lab builds on the library (:mod:`deepfakelab.heads`, :mod:`deepfakelab.reenact`,
:mod:`deepfakelab.detect`, :mod:`deepfakelab.gan`, ...), which never imports it. The
notebooks themselves are ``solutions/<lab>/`` (the instructor's) and ``assignments/<lab>/`` (the
students'); releasing and grading them is :mod:`deepfakelab.course`'s.
"""
