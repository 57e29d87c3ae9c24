"""Renderings of one StackSpec: the docker commands `up` stands for, a Compose file, Kubernetes manifests.

Each is a function of the spec alone (the manifests also read the files of the bind-mounted
``db/`` folder, for a ConfigMap), so a changed setting shows in all of them at once. Writing
files is left to ``files``.
"""
