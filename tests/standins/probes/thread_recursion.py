"""Recurse without end in a thread: a big enough thread stack stops it with RecursionError."""

import threading

outcome = []


def dive(depth):
    try:
        dive(depth + 1)
    except RecursionError:
        outcome.append(depth)


worker = threading.Thread(target=dive, args=(1,))
worker.start()
worker.join()
print("recursion stopped at", outcome[0])
