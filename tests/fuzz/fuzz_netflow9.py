"""atheris coverage-guided fuzzing of the netflow9 decoder (see fuzz_common.py; run by scripts/soak.sh)."""
import fuzz_common

if __name__ == "__main__":
    fuzz_common.decoder_main("netflow9")
