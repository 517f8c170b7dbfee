"""Faces on the CPU with nothing downloaded: found and described (dlib), compared, and their likeness judged."""
