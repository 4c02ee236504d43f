"""Reading a run's rich values: media keys, values by step range (latest first), tables as columns,
and the bytes of a value."""
