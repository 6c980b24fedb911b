"""The baseline: a bare nameko HTTP entrypoint calling a bare nameko RPC echo, each in its
own process, with nameko's defaults. What our gateway → catalog path costs beyond this is
Procura's own work (token check, validation, pricing, database, metrics)."""
from nameko.rpc import RpcProxy, rpc
from nameko.web.handlers import http


class Echo:
    name = "bench_echo"

    @rpc
    def echo(self, value):
        return value


class EchoGateway:
    name = "bench_echo_gateway"
    echo = RpcProxy("bench_echo")

    @http("GET", "/echo/<value>")
    def get(self, request, value):
        return self.echo.echo(value)
