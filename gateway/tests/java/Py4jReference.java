// A real py4j server for gateway/tests/server_vs_py4j.rs to compare against:
// py4j's own Java GatewayServer or ClientServer, from the py4j jar of a pinned
// PySpark venv, with an auth token, on an ephemeral loopback port.
//
//   java -cp <py4j jar>:<spark jars>/* Py4jReference gateway <python callback port>
//   java -cp ... Py4jReference clientserver
//
// Prints the port and the token, one per line, then serves until stdin closes.
// (py4j's own `GatewayServer` main gives the callback client no token, so every
// callback of an authenticated gateway started that way fails; the builder
// below passes the token, as an application embedding py4j does.)

import java.net.InetAddress;
import java.security.SecureRandom;

import py4j.ClientServer;
import py4j.GatewayServer;

public class Py4jReference {
    public static void main(String[] args) throws Exception {
        byte[] raw = new byte[32];
        new SecureRandom().nextBytes(raw);
        StringBuilder token = new StringBuilder();
        for (byte b : raw) {
            token.append(String.format("%02x", b));
        }
        InetAddress loopback = InetAddress.getLoopbackAddress();
        int port;
        Runnable stop;
        if (args[0].equals("gateway")) {
            int pythonPort = Integer.parseInt(args[1]);
            GatewayServer server = new GatewayServer.GatewayServerBuilder()
                    .javaPort(0)
                    .javaAddress(loopback)
                    .authToken(token.toString())
                    .callbackClient(pythonPort, loopback, token.toString())
                    .build();
            server.start();
            port = server.getListeningPort();
            stop = server::shutdown;
        } else {
            ClientServer server = new ClientServer.ClientServerBuilder()
                    .javaPort(0)
                    .javaAddress(loopback)
                    .authToken(token.toString())
                    .build();
            port = server.getJavaServer().getListeningPort();
            stop = server::shutdown;
        }
        System.out.println(port);
        System.out.println(token);
        System.out.flush();
        while (System.in.read() >= 0) {
            // Serve until the test closes our stdin.
        }
        stop.run();
        System.exit(0);
    }
}
