"""Writing pipeline outputs from our own DoFns (Beam's built-in file sinks lose output on some runners)."""
