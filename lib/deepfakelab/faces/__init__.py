"""Faces: detection, crops, the dense face mesh and its regions."""
