package org.dmabuf.status;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/** Reads JSON back with a real parser: Python's {@code json.loads}, in a process. */
final class Python {
    private Python() {
    }

    /**
     * Parses a document with {@code json.loads} and prints an expression of it ({@code d}) with
     * {@code json.dumps(..., ensure_ascii=True)}: what a client of the endpoint would read.
     *
     * @param json the document
     * @param expression Python over {@code d}, the parsed document
     * @return the expression's value as ASCII JSON
     */
    static String eval(String json, String expression) throws Exception {
        Process p = new ProcessBuilder("python3", "-c", "import json,sys\n"
                + "d = json.loads(sys.stdin.buffer.read().decode('utf-8'))\n"
                + "print(json.dumps(" + expression + ", ensure_ascii=True, sort_keys=True))").start();
        try (OutputStream in = p.getOutputStream()) {
            in.write(json.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("python3 json.loads of%n%s%n%s", json, err).isZero();
        return out;
    }
}
