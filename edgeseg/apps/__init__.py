"""Applications built on the whole library: ``quickstart`` (the offline chain sample data →
teacher → distilled student → every export → host bench) and ``android_demo`` (filling and
installing the demo app). Only the CLI sits above this layer."""
