package org.dmabuf.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.StringReader;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Dictionary;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import org.dmabuf.api.InvalidArgumentException;
import org.dmabuf.api.PixelFormat;
import org.dmabuf.linux.TryTimeout;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * Fuzzes the gateway's configuration parsers: {@link ConfigLoader} over a folder of {@code .cfg} files of any
 * content and name (valid properties, mutated ones, random bytes, invalid UTF-8, bad {@code \}u escapes),
 * {@link ConfigLoader#typed} on any value, and {@link PatternSource#pixelFormat} (the {@code format} setting) on any
 * text. Properties: nothing escapes the loader (a file it cannot read is logged and skipped); each file it can read
 * gives exactly one configuration, of the right PID, whose values are what {@link Properties} reads, typed; a value
 * is typed as what it parses as; a format is a format the text names, or a typed refusal. Each try runs under
 * {@link TryTimeout}.
 *
 * <p>Tries: {@code jqwik.tries.default}, 1000 in CI; the long run's one command is in {@code WireFormatFuzzTest}.
 */
@AddLifecycleHook(TryTimeout.class)
class ConfigLoaderFuzzTest {
    /** The loader's logger, quietened while thousands of broken files are skipped (held: JUL keeps it weakly). */
    private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger("org.dmabuf.gateway");
    private static java.util.logging.Level level;

    @net.jqwik.api.lifecycle.BeforeContainer
    static void quiet() {
        level = LOG.getLevel();
        LOG.setLevel(java.util.logging.Level.SEVERE);
    }

    @net.jqwik.api.lifecycle.AfterContainer
    static void loud() {
        LOG.setLevel(level);
    }

    /** A configuration file: its name without {@code .cfg} and its bytes. */
    record CfgFile(String base, byte[] content) {
        @Override
        public String toString() {
            return base + ".cfg: " + java.util.HexFormat.of().formatHex(content);
        }
    }

    /** What ConfigAdmin was asked: the PID (or factory PID and name) and the values. */
    record Update(String pid, String factoryPid, String name, Map<String, Object> values) {
    }

    private static Arbitrary<String> values() {
        return Arbitraries.oneOf(Arbitraries.strings().all().ofMaxLength(20),
                Arbitraries.of("true", "false", "TRUE", " true ", "1", "-1", "+5", "007", "2147483647", "2147483648",
                        "-2147483649", "9223372036854775807", "9223372036854775808", "0x10", "1e3", "1_000",
                        "\u0661\u0662", "", " ", "\\u0041", "\\", "a\\\nb", "#", "!x", "="),
                Arbitraries.longs().map(l -> Long.toString(l)));
    }

    @Provide
    Arbitrary<List<CfgFile>> folders() {
        Arbitrary<String> keys = Arbitraries.oneOf(Arbitraries.strings().alpha().numeric().withChars("._-")
                .ofMinLength(1).ofMaxLength(12), Arbitraries.of("dev.path", "service.ranking", "a b", "k=v", "#c"));
        Arbitrary<byte[]> valid = Combinators.combine(keys, values()).as((k, v) -> {
            Properties p = new Properties();
            p.setProperty(k, v);
            return p;
        }).list().ofMaxSize(5).map(ps -> {
            StringBuilder b = new StringBuilder("# generated\n");
            for (Properties p : ps) {
                java.io.StringWriter w = new java.io.StringWriter();
                try {
                    p.store(w, null);
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
                b.append(w.toString().replaceFirst("^#.*\n", ""));
            }
            return b.toString().getBytes(StandardCharsets.UTF_8);
        });
        Arbitrary<byte[]> raw = Arbitraries.oneOf(
                Arbitraries.strings().withChars("key=value\n\\u0041:# \t!\r\u00e9").ofMaxLength(80)
                        .map(s -> s.getBytes(StandardCharsets.UTF_8)),
                Arbitraries.bytes().array(byte[].class).ofMaxSize(120),
                Arbitraries.of("a=\\u00zz\n", "a=\\u12\n", "a=\\", "\u00e9=\u00e9\n").map(s -> s.getBytes(
                        StandardCharsets.UTF_8)),
                Arbitraries.of(new byte[] {'a', '=', (byte) 0xc3}, new byte[] {'a', '=', (byte) 0xff, '\n'}));
        Arbitrary<byte[]> mutated = Combinators.combine(valid, Arbitraries.integers().between(0, 1000),
                Arbitraries.bytes()).as((v, at, b) -> {
                    if (v.length == 0) {
                        return v;
                    }
                    byte[] c = v.clone();
                    c[at % c.length] = b;
                    return c;
                });
        Arbitrary<String> names = Arbitraries.oneOf(
                Arbitraries.of("org.dmabuf.exporter.heap", "org.dmabuf.exporter.drm~card0", "~x", "x~", "a~b~c",
                        "org.dmabuf.gateway", "x.cfg"),
                Arbitraries.strings().alpha().numeric().withChars("~._- é").ofMinLength(1).ofMaxLength(20));
        return Combinators.combine(names, Arbitraries.oneOf(valid, raw, mutated)).as(CfgFile::new).list()
                .ofMaxSize(4).uniqueElements(CfgFile::base);
    }

    /** What the loader should make of a file: the values Properties reads from strict UTF-8, or null (skipped). */
    private static Map<String, Object> expected(byte[] content) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(content)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
        Properties p = new Properties();
        try {
            p.load(new StringReader(text));
        } catch (IOException | IllegalArgumentException e) {
            return null;
        }
        Map<String, Object> m = new HashMap<>();
        for (String k : p.stringPropertyNames()) {
            m.put(k, ConfigLoader.typed(p.getProperty(k).trim()));
        }
        return m;
    }

    private static Map<String, Object> map(Dictionary<String, ?> d) {
        Map<String, Object> m = new HashMap<>();
        for (String k : Collections.list(d.keys())) {
            m.put(k, d.get(k));
        }
        return m;
    }

    /** A ConfigAdmin that records what it is asked to store. */
    private static ConfigurationAdmin admin(List<Update> updates) {
        return (ConfigurationAdmin) Proxy.newProxyInstance(ConfigLoaderFuzzTest.class.getClassLoader(),
                new Class<?>[] {ConfigurationAdmin.class}, (proxy, method, args) -> {
                    String pid;
                    String factory;
                    String name;
                    switch (method.getName()) {
                        case "getConfiguration" -> {
                            pid = (String) args[0];
                            factory = null;
                            name = null;
                        }
                        case "getFactoryConfiguration" -> {
                            pid = null;
                            factory = (String) args[0];
                            name = (String) args[1];
                        }
                        default -> throw new UnsupportedOperationException(method.getName());
                    }
                    return Proxy.newProxyInstance(ConfigLoaderFuzzTest.class.getClassLoader(),
                            new Class<?>[] {Configuration.class}, (p2, m2, a2) -> {
                                if (m2.getName().equals("update") && a2 != null && a2.length == 1) {
                                    @SuppressWarnings("unchecked")
                                    Dictionary<String, ?> d = (Dictionary<String, ?>) a2[0];
                                    updates.add(new Update(pid, factory, name, map(d)));
                                    return null;
                                }
                                throw new UnsupportedOperationException(m2.getName());
                            });
                });
    }

    private static BundleContext context(Path dir) {
        return (BundleContext) Proxy.newProxyInstance(ConfigLoaderFuzzTest.class.getClassLoader(),
                new Class<?>[] {BundleContext.class}, (proxy, method, args) -> {
                    if (method.getName().equals("getProperty") && ConfigLoader.CONF.equals(args[0])) {
                        return dir.toString();
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
    }

    @Property
    void aFolderOfAnyFilesIsLoadedFileByFileAndNothingEscapes(@ForAll("folders") List<CfgFile> files)
            throws IOException {
        Path dir = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "cfg-fuzz");
        try {
            for (CfgFile f : files) {
                Files.write(dir.resolve(f.base() + ".cfg"), f.content());
            }
            Files.writeString(dir.resolve("ignored.txt"), "a=1\n");
            List<Update> updates = new ArrayList<>();
            new ConfigLoader(admin(updates), context(dir)); // must not throw, whatever the files hold
            List<Update> want = new ArrayList<>();
            files.stream().sorted(Comparator.comparing(f -> dir.resolve(f.base() + ".cfg"))).forEach(f -> {
                Map<String, Object> values = expected(f.content());
                if (values != null) {
                    int tilde = f.base().indexOf('~');
                    want.add(tilde < 0 ? new Update(f.base(), null, null, values)
                            : new Update(null, f.base().substring(0, tilde), f.base().substring(tilde + 1), values));
                }
            });
            assertThat(updates).as("one configuration per readable file, in order, typed").isEqualTo(want);
            TryTimeout.outcome(updates.size() + " of " + files.size() + " files loaded");
        } finally {
            try (var s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Property
    void aValueIsTypedAsWhatItParsesAs(@ForAll("anyValue") String v) {
        Object t = ConfigLoader.typed(v);
        if (v.equals("true") || v.equals("false")) {
            assertThat(t).isEqualTo(Boolean.valueOf(v));
            return;
        }
        Long parsed;
        try {
            parsed = Long.parseLong(v);
        } catch (NumberFormatException e) {
            parsed = null;
        }
        if (parsed == null) {
            assertThat(t).isEqualTo(v);
        } else if (parsed == parsed.intValue()) {
            assertThat(t).isEqualTo(parsed.intValue());
        } else {
            assertThat(t).isEqualTo(parsed);
        }
    }

    @Provide
    Arbitrary<String> anyValue() {
        return values();
    }

    @Provide
    Arbitrary<String> formats() {
        return Arbitraries.oneOf(Arbitraries.of(PixelFormat.class).map(Enum::name),
                Arbitraries.of(PixelFormat.class).map(f -> org.dmabuf.api.BufferFormat.fourccName(f.v4l2Fourcc())),
                Arbitraries.strings().withChars("NVYU12MGREXB\u024e\u0159 \t").ofMinLength(3).ofMaxLength(6),
                Arbitraries.strings().all().ofMaxLength(8));
    }

    @Property
    void aFormatSettingIsAFormatItNamesOrATypedRefusal(@ForAll("formats") String text) {
        String upper = text.strip().toUpperCase(Locale.ROOT);
        try {
            PixelFormat f = PatternSource.pixelFormat(text);
            assertThat(upper).as("the text names the format it gave")
                    .isIn(f.name(), org.dmabuf.api.BufferFormat.fourccName(f.v4l2Fourcc()));
            TryTimeout.outcome("a format");
        } catch (InvalidArgumentException e) {
            assertThat(e.errno()).isEqualTo("EINVAL");
            assertThat(e.call()).as("the refusal names the setting").isEqualTo("--format");
            TryTimeout.outcome("refused");
        }
    }
}
