"""Faces in pictures: detection (MTCNN), boxes and square crops, paste back, landmarks, masks."""
