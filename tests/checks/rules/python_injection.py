# ruff: noqa
# Annotated target for checks/rules/python-injection.yml (semgrep's test convention):
# `# ruleid: <id>` marks the next line as a required match, `# ok: <id>` as a required non-match.
import ast
import asyncio
import os
import re
import sqlite3
import subprocess
from subprocess import run

import pandas as pd
import sqlalchemy
from sqlalchemy import text

from models import User


def commands(user: str, path: str) -> None:
    # ruleid: python.command-injection.os-system
    os.system("ls " + path)
    # ruleid: python.command-injection.os-system
    os.system(f"tar czf out.tgz {path}")
    # ruleid: python.command-injection.os-system
    os.popen("grep %s log.txt" % user).read()
    # ruleid: python.command-injection.os-system
    subprocess.getoutput(user)
    # ok: python.command-injection.os-system
    os.system("make clean")
    # ok: python.command-injection.os-system
    os.popen("uptime").read()


def shells(user: str, cmd: str) -> None:
    # ruleid: python.command-injection.subprocess-shell
    subprocess.run(f"git log {user}", shell=True, check=True)
    # ruleid: python.command-injection.subprocess-shell
    subprocess.Popen(cmd, shell=True)
    # ruleid: python.command-injection.subprocess-shell
    subprocess.check_output("echo " + user, stderr=subprocess.STDOUT, shell=True)
    # ruleid: python.command-injection.subprocess-shell
    run("ping -c1 %s" % user, shell=True)
    # ok: python.command-injection.subprocess-shell
    subprocess.run(["git", "log", user], check=True)
    # ok: python.command-injection.subprocess-shell
    subprocess.run("ls -la | wc -l", shell=True)
    # ok: python.command-injection.subprocess-shell
    subprocess.run(["ls", user], shell=False)
    # ok: python.command-injection.subprocess-shell
    subprocess.call(cmd)


async def async_shells(user: str) -> None:
    # ruleid: python.command-injection.subprocess-shell
    await asyncio.create_subprocess_shell("convert " + user)
    # ok: python.command-injection.subprocess-shell
    await asyncio.create_subprocess_exec("convert", user)


def queries(conn: sqlite3.Connection, user_id: str, name: str, ids: list[int]) -> None:
    cur = conn.cursor()
    # ruleid: python.sql-injection.formatted-query
    cur.execute(f"SELECT * FROM users WHERE id = {user_id}")
    # ruleid: python.sql-injection.formatted-query
    cur.execute("SELECT * FROM users WHERE name = '%s'" % name)
    # ruleid: python.sql-injection.formatted-query
    cur.execute("SELECT * FROM users WHERE name = '{}'".format(name))
    # ruleid: python.sql-injection.formatted-query
    cur.execute("DELETE FROM users WHERE name = '" + name + "'")
    query = "UPDATE users SET name = '%s'" % name
    query += " WHERE id = 1"
    # ruleid: python.sql-injection.formatted-query
    conn.execute(query)
    # ruleid: python.sql-injection.formatted-query
    cur.executemany(f"INSERT INTO {name} VALUES (?)", [(1,), (2,)])
    # ok: python.sql-injection.formatted-query
    cur.execute("SELECT * FROM users WHERE id = %s", (user_id,))
    # ok: python.sql-injection.formatted-query
    cur.execute("SELECT * FROM users WHERE name = ?", [name])
    placeholders = ", ".join(["?"] * len(ids))
    # ok: python.sql-injection.formatted-query
    cur.execute("SELECT * FROM users WHERE id IN (%s)" % ", ".join("?" * len(ids)), ids)
    # ok: python.sql-injection.formatted-query
    cur.execute(f"SELECT * FROM users WHERE id IN ({placeholders})", ids)
    # ok: python.sql-injection.formatted-query
    cur.execute("SELECT * FROM users LIMIT %d" % 10)
    # ok: python.sql-injection.formatted-query
    cur.execute("SELECT * FROM users " + "ORDER BY id")


def orm(engine: sqlalchemy.Engine, session, name: str) -> None:
    # ruleid: python.sql-injection.formatted-query
    session.execute(text(f"SELECT * FROM t WHERE name = '{name}'"))
    # ruleid: python.sql-injection.formatted-query
    pd.read_sql("SELECT * FROM t WHERE name = '%s'" % name, engine)
    # ok: python.sql-injection.formatted-query
    session.execute(text("SELECT * FROM t WHERE name = :name"), {"name": name})
    # ok: python.sql-injection.formatted-query
    pd.read_sql("SELECT * FROM t WHERE name = %(name)s", engine, params={"name": name})
    # ok: python.sql-injection.formatted-query
    session.execute(sqlalchemy.select(User).where(User.name == f"{name}-suffix"))
    # ok: python.sql-injection.formatted-query
    session.query(User).filter(User.email == name + "@example.com").all()
    # ruleid: python.sql-injection.formatted-query
    session.execute(sqlalchemy.select(User).where(text(f"name = '{name}'")))


def dynamic_code(expr: str, source: str) -> object:
    # ruleid: python.code-injection.eval
    value = eval(expr)
    # ruleid: python.code-injection.eval
    exec(source, {"__builtins__": {}})
    # ruleid: python.code-injection.eval
    code = compile(source, "<string>", "exec")
    # ok: python.code-injection.eval
    eval("1 + 1")
    # ok: python.code-injection.eval
    pattern = re.compile(expr)
    # ok: python.code-injection.eval
    tree = compile(source, "<string>", "exec", ast.PyCF_ONLY_AST)
    # ok: python.code-injection.eval
    return ast.literal_eval(expr), value, code, pattern


def exec_spawn(cmd: str, prog: str) -> None:
    import code
    import logging.config
    import sys

    import paramiko
    import sh
    from airflow.operators.bash import BashOperator

    # ruleid: python.command-injection.dynamic-exec-spawn
    os.execl("/bin/bash", "/bin/bash", "-c", cmd)
    # ok: python.command-injection.dynamic-exec-spawn
    os.execl("/bin/bash", "/bin/bash", "-c", "ls -la")
    # ruleid: python.command-injection.dynamic-exec-spawn
    os.spawnlp(os.P_WAIT, prog)
    # ok: python.command-injection.dynamic-exec-spawn
    os.execv(sys.executable, [sys.executable, "-m", "pip"])
    # ruleid: python.command-injection.dynamic-exec-spawn
    asyncio.create_subprocess_exec("bash", ["bash", "-c", cmd])
    # ruleid: python.command-injection.sh-library
    sh.ls("-a" + cmd)
    # ok: python.command-injection.sh-library
    sh.ls("-a", cmd)
    client = paramiko.SSHClient()
    # ruleid: python.command-injection.remote-exec-command
    client.exec_command(cmd)
    # ok: python.command-injection.remote-exec-command
    client.exec_command("uptime")
    # ruleid: python.command-injection.shell-wildcard
    os.system("tar czf backup.tgz *")
    # ok: python.command-injection.shell-wildcard
    os.system("tar czf backup.tgz data")
    # ruleid: python.command-injection.airflow-bash-operator
    BashOperator(task_id="t", bash_command=f"echo {cmd}")
    # ok: python.command-injection.airflow-bash-operator
    BashOperator(task_id="t", bash_command="echo $MSG", env={"MSG": cmd})
    console = code.InteractiveConsole()
    # ruleid: python.code-injection.dynamic-code-run
    console.push(cmd)
    # ok: python.code-injection.dynamic-code-run
    console.push("print(1)")
    # ruleid: python.code-injection.logging-config-listen
    logging.config.listen(9999)
    # ok: python.code-injection.logging-config-listen
    logging.config.listen(9999, verify=check_signature)


def sqlalchemy_clauses(session, Model, var):
    # ruleid: python.sql-injection.sqlalchemy-formatted-clause
    session.query(Model).filter("name = '{}'".format(var))
    # ok: python.sql-injection.sqlalchemy-formatted-clause
    session.query(Model).filter(Model.name == var)
