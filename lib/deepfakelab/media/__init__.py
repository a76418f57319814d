"""Photos and videos in and out: the only part of the kit that reads or writes media files.

- ``files``: checking input and output paths before any work
- ``photo``: photos upright (EXIF), RGB, 8 bits, with notes on conversions
- ``video``: frame-exact decoding and probing (frames announced vs decoded, audio)
- ``frames``: choosing frames and writing them with a JSON sidecar
- ``writer``: the one video writer (synthetic label in the metadata, optional band, audio)
"""

from .files import (
    IMAGE_SUFFIXES,
    VIDEO_OUTPUT_SUFFIXES,
    check_input_file,
    check_input_folder,
    check_output_file,
    check_output_folder,
    is_image_path,
)
from .frames import extract_frames, save_frames, select_indices
from .photo import read_image, read_photo
from .video import Video, VideoInfo, count_frames, iter_frames, probe_video, read_video, short_video_note
from .writer import SYNTHETIC_LABEL, VISIBLE_MARK, add_visible_mark, read_metadata, write_video
