from sstfill.cli import app

app(prog_name="sstfill")
