"""``python -m edgeseg`` (also what ``torchrun -m edgeseg`` runs)."""

from edgeseg.cli import run

if __name__ == "__main__":
    run()
