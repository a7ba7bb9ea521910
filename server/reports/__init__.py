"""Reports from the stored data: the request, the frames, the service, the exports."""
