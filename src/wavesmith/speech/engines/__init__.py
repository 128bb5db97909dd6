"""Speech-recognition engines: ``whisper`` (faster-whisper) and ``sphinx`` (pocketsphinx).

Each module is imported only when its engine is first used, so its heavy dependencies load
lazily.
"""
