"""Speech-recognition engines: ``whisper`` (faster-whisper) and ``sphinx`` (pocketsphinx).

Each module is imported only when its engine is first used, so its heavy dependencies load
lazily. To add an engine, write one module here with a :class:`~wavesmith.speech.asr.
Transcriber` subclass that has

* ``name`` and ``model_name`` (str), and a classmethod ``load(*, model=None,
  model_dir=None)`` that loads its weights (raise ``ModelNotFoundError`` when they are
  missing, ``AudioValueError`` for an option it does not take);
* ``_run(samples, options)``: decode 16 kHz mono float32 samples, shape ``(frames,)``
  (override ``_prepare(audio)`` for another rate), returning the raw output;
* ``_decode(raw, offset_s=..., duration_s=...)``: raw output to ``list[Segment]``, times
  shifted by ``offset_s`` and clipped to ``duration_s``;
* optionally ``check_options(options)`` and ``decode_batch(audios, options)``.

then add ``"name": "wavesmith.speech.engines.<module>:<Class>"`` to
:data:`wavesmith.speech.asr.ENGINE_CLASSES` (or call :func:`wavesmith.speech.asr.
register_engine`). ``transcribe``, long files, streaming, ``wavesmith asr transcribe/stream/
eval --engine name`` and the service then work with it unchanged.
"""
