"""Lab 1, *How easy is it to create a deepfake?* (nbgrader assignment ``lab1``): what its
notebook works on.

- :mod:`.notebook` -- what the notebook's cells call: the synthetic photos and videos drawn from
  seeds, a photo reenacted by the kit's small FOMM, Part 0's finished fake, the keypoints figure,
  the frames that are scored, the detector's face crop, how long each part takes.
- :mod:`.media` -- which photos and videos the lab works on (synthetic, the instructor's media
  pack, the student's own) and which reenactment animates each photo.
- :mod:`.media_pack` -- the instructor's media pack: its manifest (``lab1.yaml``), made, read and
  copied into a course and its releases.
- :mod:`.media_check` -- whether a media pack is fit for a term: every problem, one line each.
- :mod:`.cli` -- ``deepfakelab course media init|check``.

The hidden checks are ``autograder/hidden_checks/lab1/``; they read the same modules.
"""
