"""Photos and videos in and out: the only part of the kit that reads or writes media files."""
