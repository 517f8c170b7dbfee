"""One generation, from request to saved avatars: parameters, prompts, checks, the charge, jobs and recovery."""
