"""Find, decompress and load Spark event logs."""
