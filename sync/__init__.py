"""The sync protocol (push, pull, cursors, epochs, conflicts) over a Store, and the device client."""
