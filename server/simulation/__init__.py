"""The demo and the server side of the fleet simulator."""
