"""The sync protocol (push, pull, cursors, epochs, conflicts) over a Store interface, and the device client."""
