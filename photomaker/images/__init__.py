"""Images in and out: uploaded photos checked within a memory budget, avatars stored on disk."""
