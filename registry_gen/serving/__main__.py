"""``python -m registry_gen.serving URI ...``: the ``serve`` command (as containers run it)."""

from registry_gen.serving._cli import serve_command

serve_command(prog_name="python -m registry_gen.serving")
