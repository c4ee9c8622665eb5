"""The worker's entry point in the checkout (`python worker.py`), the same as `settlement worker`: the worker process
itself is runtime/worker_process.py, which the installed package carries."""

from runtime.worker_process import main

if __name__ == "__main__":
    main()
