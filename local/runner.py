"""The whole helpdesk in one process: local AWS, tables, stream poller, HTTP server.

Order matters: the environment is fixed before ``app`` is imported, because PynamoDB
and Powertools read it at import time.

Environment variables
---------------------
PORT
    Port of the HTTP server on 127.0.0.1 (default 8000).
HELPDESK_ADMIN_EMAIL / HELPDESK_ADMIN_PASSWORD
    The demo admin's login; by default ``admin@example.com`` with a printed random password.
HELPDESK_TABLE
    Name of the local table (default ``helpdesk-local``).
POWERTOOLS_LOG_LEVEL, POWERTOOLS_DEV
    As for Powertools: level (default INFO here) and indented, readable log lines.
AWS_REGION / AWS_DEFAULT_REGION
    Region the local AWS pretends to be (default ``us-east-1``).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from local import tables

PROJECT_DIR = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
DEFAULT_PORT = 8000
STAGE = "dev"  # the Chalice stage whose config the local stack starts from
MAIN_TABLE = "HelpdeskTable"
# Local stream retries: what infra/ asks for, but never so many that a bad record stalls
# the shard for long on a developer's machine.
DEFAULT_RETRIES = 2
MAX_LOCAL_RETRIES = 5
OUTBOX_INTERVAL = 0.25

logger = logging.getLogger("local")


class StartupError(Exception):
    """The stack cannot start; the message says why and what to change."""


def port_from_env() -> int:
    """``PORT``, checked before anything starts, so a typo stops the runner with one clear line."""
    raw = os.environ.get("PORT", str(DEFAULT_PORT))
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 65535:
        raise StartupError(f"PORT must be a port number from 1 to 65535, not {raw!r}")
    return int(raw)


def configure_logging() -> None:
    """Plain lines for the runner itself; the app logs JSON through Powertools."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    # moto's embedded server would log every stream poll.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


def local_environment(moto_url: str, port: int, region: str, table: str) -> dict[str, str]:
    """Everything the app reads from the environment, pointed at the local AWS."""
    return {
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        # A developer's AWS config must not steer the local stack anywhere real.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        # moto answers DynamoDB Streams only on the account-less endpoint.
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "HELPDESK_STAGE": "local",
        "HELPDESK_SECRET_KEY": secrets.token_urlsafe(48),
        "HELPDESK_TABLE": table,
        # _create_tables names every other table of the template after the main one.
        "HELPDESK_IDEMPOTENCY_TABLE": f"{table}-IdempotencyTable",
        "HELPDESK_PUBLIC_URL": f"http://{HOST}:{port}",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "INFO"),
    }


def apply_environment(values: dict[str, str]) -> None:
    """Set ``values``, first removing what could still send boto3 to real AWS: per-service
    endpoint overrides, profiles and session tokens."""
    for name in [name for name in os.environ if name.startswith("AWS_ENDPOINT_URL_")]:
        del os.environ[name]
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update(values)


def retry_attempts(handler_name: str) -> int:
    """MaximumRetryAttempts of this handler's stream event source in ``infra/``, if set."""
    from chalice.utils import to_cfn_resource_name

    resources = json.loads(tables.TEMPLATE.read_text()).get("Resources", {})
    function = resources.get(to_cfn_resource_name(handler_name), {})
    for event in function.get("Properties", {}).get("Events", {}).values():
        value = event.get("Properties", {}).get("MaximumRetryAttempts")
        if isinstance(value, int):
            # -1 means "until the record expires" in AWS: locally, the cap.
            return MAX_LOCAL_RETRIES if value < 0 else min(value, MAX_LOCAL_RETRIES)
    return DEFAULT_RETRIES


class LocalStack:
    """Starts and stops the pieces, in order."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        self.table = os.environ.get("HELPDESK_TABLE", "helpdesk-local")
        self.moto: Any = None
        self.moto_url = ""
        self.http: Any = None
        self.http_thread: threading.Thread | None = None
        self.pollers: list[Any] = []
        self.outbox: Any = None
        self.demo: Any = None
        self.environment: dict[str, str] = {}

    # -- start ---------------------------------------------------------------------

    def start(self) -> None:
        """Start every piece, in order: the environment is set before the app is imported, the
        port is bound before the slower seeding (a busy port fails at once), serving comes last."""
        self._start_moto()
        self.environment = local_environment(self.moto_url, self.port, self.region, self.table)
        apply_environment(self.environment)
        stream_arn = self._create_tables()
        # The app declares its stream handler on this ARN, as the deployed one does.
        os.environ["HELPDESK_STREAM_ARN"] = stream_arn

        app, config = self._load_app()
        self._bind_http(app, config)
        self._seed()
        self._verify_sender()
        self._start_pollers(app, config)
        # The server itself, not LocalDevServer.serve_forever, which prints its own line.
        self.http_thread = threading.Thread(target=self.http.server.serve_forever, name="http", daemon=True)
        self.http_thread.start()

    def _start_moto(self) -> None:
        from moto.server import ThreadedMotoServer

        # Port 0: the system picks a free one; loopback only.
        self.moto = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
        self.moto.start()
        host, port = self.moto.get_host_and_port()
        self.moto_url = f"http://{host}:{port}"
        logger.info("local aws started url=%s", self.moto_url)

    def _create_tables(self) -> str:
        import boto3

        client = boto3.client("dynamodb", region_name=self.region)
        names = {
            logical_id: self.table if logical_id == MAIN_TABLE else f"{self.table}-{logical_id}"
            for logical_id in tables.table_definitions()
        }
        tables.create_all(client, names)
        arn = client.describe_table(TableName=self.table)["Table"].get("LatestStreamArn")
        if not arn:
            raise StartupError(f"infra/template.json gives {MAIN_TABLE} no stream")
        logger.info("tables created names=%s", ",".join(sorted(names.values())))
        return str(arn)

    def _load_app(self) -> tuple[Any, Any]:
        """Import the app the way ``chalice local`` does, with the stage's config."""
        from chalice.cli.factory import CLIFactory

        from local.dev_routes import create_blueprint
        from local.outbox import Outbox

        factory = CLIFactory(str(PROJECT_DIR), environ=os.environ)
        config = factory.create_config_obj(chalice_stage_name=STAGE)
        # The stage's variables first, then ours on top (HELPDESK_STAGE=local wins).
        os.environ.update({**config.environment_variables, **self.environment})
        app = factory.load_chalice_app()

        from moto.core import DEFAULT_ACCOUNT_ID

        self.outbox = Outbox(DEFAULT_ACCOUNT_ID, self.region)
        app.register_blueprint(create_blueprint(self.outbox))
        return app, config

    def _bind_http(self, app: Any, config: Any) -> None:
        from chalice.local import create_local_server

        try:
            self.http = create_local_server(app, config, HOST, self.port)
        except OSError as exc:
            raise StartupError(
                f"cannot listen on {HOST}:{self.port} ({exc.strerror}); set PORT to a free port"
            ) from exc

    def _seed(self) -> None:
        from chalicelib.errors import InvalidInput
        from local.dev_routes import DEMO_SITE_VARIABLE
        from local.seed import seed

        try:
            self.demo = seed(
                os.environ.get("HELPDESK_ADMIN_EMAIL"),
                os.environ.get("HELPDESK_ADMIN_PASSWORD"),
                # The demo website page (/embed/v1/demo) is served by this same server.
                site_origins=[f"http://{HOST}:{self.port}", f"http://localhost:{self.port}"],
            )
        except InvalidInput as exc:
            variable = {"email": "HELPDESK_ADMIN_EMAIL", "password": "HELPDESK_ADMIN_PASSWORD"}.get(
                exc.field or "", exc.field
            )
            raise StartupError(f"{variable}: {exc.message}") from exc
        # /embed/v1/demo embeds this site, whatever other sites an admin adds.
        os.environ[DEMO_SITE_VARIABLE] = self.demo.site_id or ""
        logger.info("demo data seeded tickets=%s", ",".join(map(str, self.demo.ticket_numbers)))

    def _verify_sender(self) -> None:
        import boto3

        # SES refuses mail from an unverified sender; moto verifies at once.
        boto3.client("ses", region_name=self.region).verify_email_identity(
            EmailAddress=self.demo.sender_email
        )
        logger.info("ses sender verified email=%s", self.demo.sender_email)

    def _start_pollers(self, app: Any, config: Any) -> None:
        from chalice.app import DynamoDBEventConfig
        from chalice.local import LambdaContext

        from local.poller import StreamPoller

        for source in app.event_sources:
            if not isinstance(source, DynamoDBEventConfig):
                continue
            scoped = config.scope(STAGE, source.name)

            def context(name: str = source.name, scoped: Any = scoped) -> LambdaContext:
                return LambdaContext(
                    function_name=f"{app.app_name}-local-{name}",
                    memory_size=scoped.lambda_memory_size,
                    max_runtime_ms=scoped.lambda_timeout * 1000,
                )

            poller = StreamPoller(
                handler=app.handler_map[source.name],
                table_name=self.table,
                region=self.region,
                batch_size=source.batch_size,
                starting_position=source.starting_position,
                max_retries=retry_attempts(source.name),
                context_factory=context,
            )
            poller.start()
            self.pollers.append(poller)
            logger.info(
                "stream poller started handler=%s batch_size=%d retries=%d",
                source.name,
                source.batch_size,
                poller.max_retries,
            )

    # -- run and stop --------------------------------------------------------------

    def banner(self) -> str:
        """What the terminal shows once the stack is up: the URLs, the demo logins, a first curl."""
        base = f"http://{HOST}:{self.port}"
        lines = [
            "",
            "Helpdesk is running locally (all AWS services are moto, in this process).",
            f"  Staff pages   {base}/admin",
            f"  Portal        {base}/portal   (customers; registration is open)",
            f"  Website demo  {base}/embed/v1/demo   (the embeddable ticket form on a sample page)",
            f"  API           {base}/api",
            f"  OpenAPI       {base}/api/openapi.json",
            f"  Outbox        {base}/dev/outbox   (JSON: {base}/dev/outbox.json)",
            f"  Templates     {base}/dev/templates   (notification previews)",
            f"  Local AWS     {self.moto_url}",
            "",
            "Demo logins:",
        ]
        notes = {"customer": f"  (sign in at {base}/portal/login)"}
        for login in self.demo.logins:
            password = f"(password from {login.source})" if login.source else login.password
            lines.append(f"  {login.role:<9} {login.email:<28} {password}{notes.get(login.role, '')}")
        admin = self.demo.logins[0]
        body = json.dumps({"email": admin.email, "password": "..." if admin.source else admin.password})
        lines += [
            "",
            "Sign in as the admin:",
            f"  curl -s -X POST {base}/api/auth/login -H 'Content-Type: application/json' -d '{body}'",
            "",
            "Ctrl-C stops everything.",
            f"helpdesk ready on {base}",
        ]
        return "\n".join(lines)

    def collect_outbox(self) -> None:
        """Take in newly sent messages; called often, since the outbox dates them when it sees them."""
        if self.outbox is not None:
            self.outbox.collect()

    def stop(self) -> None:
        """Stop what was started, newest first; safe after a failed start."""
        if self.http is not None:
            if self.http_thread is not None:
                self.http.shutdown()
                self.http_thread.join(10)
            self.http.server.server_close()
        for poller in self.pollers:
            poller.stop()
        if self.moto is not None:
            self.moto.stop()


def say(text: str) -> None:
    """One write per message, so lines from other threads never land inside it."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def main() -> int:
    """Run until SIGINT or SIGTERM; 0 on a clean stop, 1 when the stack cannot start."""
    configure_logging()
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            # A second Ctrl-C: the first did not get through (a start that hangs, say).
            raise KeyboardInterrupt
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    stack: LocalStack | None = None
    try:
        stack = LocalStack(port_from_env())
        stack.start()
    except StartupError as exc:
        print(f"helpdesk: {exc}", file=sys.stderr, flush=True)
        if stack is not None:
            stack.stop()
        return 1
    except BaseException:
        if stack is not None:
            stack.stop()
        raise

    say(stack.banner())
    while not stop.wait(OUTBOX_INTERVAL):
        stack.collect_outbox()
    say("helpdesk stopping")
    stack.stop()
    say("helpdesk stopped")
    return 0
