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
import java.util.SplittableRandom;
import org.dmabuf.api.InvalidArgumentException;
import org.dmabuf.api.PixelFormat;
import org.dmabuf.linux.Fuzz;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * Fuzzes the gateway's configuration parsers: {@link ConfigLoader} over a folder of {@code .cfg} files of any
 * content and name (valid properties, mutated ones, random bytes, invalid UTF-8, bad {@code \}u escapes),
 * {@link ConfigLoader#typed} on any value, and {@link PatternSource#pixelFormat} (the {@code format} setting) on any
 * text. Properties: nothing escapes the loader (a file it cannot read is logged and skipped); each file it can read
 * and whose name gives a PID gives exactly one configuration, of the right PID, whose values are what
 * {@link Properties} reads, typed; a value is typed as what it parses as; a format is a format the text names, or a
 * typed refusal. Each input is checked under {@link Fuzz}'s hang limit ({@code Fuzz} is core's, from its test jar).
 *
 * <p>Inputs: {@link Fuzz} ({@code -Dfuzz.inputs}, 2000 per property in CI; {@code -Dfuzz.seed}); the long run's one
 * command is in core's {@code WireFormatFuzzTest}.
 */
class ConfigLoaderFuzzTest {
    /** The loader's logger, quietened while thousands of broken files are skipped (held: JUL keeps it weakly). */
    private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger("org.dmabuf.gateway");
    private static java.util.logging.Level level;

    @BeforeAll
    static void quiet() {
        level = LOG.getLevel();
        LOG.setLevel(java.util.logging.Level.SEVERE);
    }

    @AfterAll
    static void loud() {
        LOG.setLevel(level);
    }

    /** A configuration file: its name without {@code .cfg} and its bytes. */
    record CfgFile(String base, byte[] content) {
        @Override
        public String toString() {
            return Fuzz.escape(base) + ".cfg: " + Fuzz.hex(content);
        }
    }

    /** What ConfigAdmin was asked: the PID (or factory PID and name) and the values. */
    record Update(String pid, String factoryPid, String name, Map<String, Object> values) {
    }

    /** Values: any text, edge numbers and booleans, escapes and comment characters, any long. */
    private static String value(SplittableRandom r) {
        return switch (r.nextInt(3)) {
            case 0 -> Fuzz.anyString(r, 0, 20);
            case 1 -> Fuzz.oneOf(r, "true", "false", "TRUE", " true ", "1", "-1", "+5", "007", "2147483647",
                    "2147483648", "-2147483649", "9223372036854775807", "9223372036854775808", "0x10", "1e3", "1_000",
                    "\u0661\u0662", "", " ", "\\u0041", "\\", "a\\\nb", "#", "!x", "=");
            default -> Long.toString(Fuzz.anyLong(r));
        };
    }

    /** A valid file: 0 to 5 properties as {@link Properties#store} writes them. */
    private static byte[] validFile(SplittableRandom r) {
        StringBuilder b = new StringBuilder("# generated\n");
        for (int i = Fuzz.length(r, 5); i > 0; i--) {
            String k = r.nextBoolean() ? Fuzz.string(r, Fuzz.ALPHA + Fuzz.DIGITS + "._-", 1, 12)
                    : Fuzz.oneOf(r, "dev.path", "service.ranking", "a b", "k=v", "#c");
            Properties p = new Properties();
            p.setProperty(k, value(r));
            java.io.StringWriter w = new java.io.StringWriter();
            try {
                p.store(w, null);
            } catch (IOException e) {
                throw new AssertionError(e);
            }
            b.append(w.toString().replaceFirst("^#.*\n", ""));
        }
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Raw files: the characters of properties files, random bytes, bad escapes, invalid UTF-8. */
    private static byte[] rawFile(SplittableRandom r) {
        return switch (r.nextInt(4)) {
            case 0 -> Fuzz.string(r, "key=value\n\\u0041:# \t!\r\u00e9", 0, 80).getBytes(StandardCharsets.UTF_8);
            case 1 -> Fuzz.bytes(r, 120);
            case 2 -> Fuzz.oneOf(r, "a=\\u00zz\n", "a=\\u12\n", "a=\\", "\u00e9=\u00e9\n")
                    .getBytes(StandardCharsets.UTF_8);
            default -> Fuzz.oneOf(r, new byte[] {'a', '=', (byte) 0xc3}, new byte[] {'a', '=', (byte) 0xff, '\n'})
                    .clone();
        };
    }

    /** A valid file with one byte set to any value. */
    private static byte[] mutatedFile(SplittableRandom r) {
        byte[] c = validFile(r);
        int at = Fuzz.between(r, 0, 1000);
        byte b = (byte) r.nextInt(256);
        if (c.length > 0) {
            c[at % c.length] = b;
        }
        return c;
    }

    /** 0 to 4 files of distinct names, each valid, raw or mutated. */
    static List<CfgFile> folder(SplittableRandom r) {
        List<CfgFile> files = new ArrayList<>();
        java.util.Set<String> names = new java.util.HashSet<>();
        for (int n = Fuzz.length(r, 4); n > 0; n--) {
            String base = r.nextBoolean()
                    ? Fuzz.oneOf(r, "org.dmabuf.exporter.heap", "org.dmabuf.exporter.drm~card0", "~x", "x~", "a~b~c",
                            "org.dmabuf.gateway", "x.cfg")
                    : Fuzz.string(r, Fuzz.ALPHA + Fuzz.DIGITS + "~._- é", 1, 20);
            byte[] content = switch (r.nextInt(3)) {
                case 0 -> validFile(r);
                case 1 -> rawFile(r);
                default -> mutatedFile(r);
            };
            if (names.add(base)) {
                files.add(new CfgFile(base, content));
            }
        }
        return files;
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
                    if (method.getName().equals("getProperty")) {
                        return null; // unset, as the status page's (Main.STATUS) is without --status
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
    }

    @Test
    void aFolderOfAnyFilesIsLoadedFileByFileAndNothingEscapes() {
        Fuzz.check("ConfigLoaderFuzzTest#aFolderOfAnyFilesIsLoadedFileByFileAndNothingEscapes",
                ConfigLoaderFuzzTest::folder, Object::toString, ConfigLoaderFuzzTest::loadFolder);
    }

    private static void loadFolder(List<CfgFile> files) throws IOException {
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
                int tilde = f.base().indexOf('~');
                // a file whose name gives no PID ("~NAME.cfg", ".cfg") is refused, logged and skipped
                if (values != null && tilde != 0 && !f.base().isEmpty()) {
                    want.add(tilde < 0 ? new Update(f.base(), null, null, values)
                            : new Update(null, f.base().substring(0, tilde), f.base().substring(tilde + 1), values));
                }
            });
            assertThat(updates).as("one configuration per readable file, in order, typed").isEqualTo(want);
            Fuzz.outcome(updates.size() + " of " + files.size() + " files loaded");
        } finally {
            try (var s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void aValueIsTypedAsWhatItParsesAs() {
        Fuzz.check("ConfigLoaderFuzzTest#aValueIsTypedAsWhatItParsesAs", ConfigLoaderFuzzTest::value, Fuzz::escape,
                ConfigLoaderFuzzTest::typedAsItParses);
    }

    private static void typedAsItParses(String v) {
        Object t = ConfigLoader.typed(v);
        if (v.equals("true") || v.equals("false")) {
            assertThat(t).isEqualTo(Boolean.valueOf(v));
            Fuzz.outcome("a boolean");
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
            Fuzz.outcome("a string");
        } else if (parsed == parsed.intValue()) {
            assertThat(t).isEqualTo(parsed.intValue());
            Fuzz.outcome("an int");
        } else {
            assertThat(t).isEqualTo(parsed);
            Fuzz.outcome("a long");
        }
    }

    /** Format names, V4L2 fourccs, their characters and wider ones, any text. */
    static String formatText(SplittableRandom r) {
        return switch (r.nextInt(4)) {
            case 0 -> Fuzz.oneOf(r, PixelFormat.values()).name();
            case 1 -> org.dmabuf.api.BufferFormat.fourccName(Fuzz.oneOf(r, PixelFormat.values()).v4l2Fourcc());
            case 2 -> Fuzz.string(r, "NVYU12MGREXB\u024e\u0159 \t", 3, 6);
            default -> Fuzz.anyString(r, 0, 8);
        };
    }

    @Test
    void aFormatSettingIsAFormatItNamesOrATypedRefusal() {
        Fuzz.check("ConfigLoaderFuzzTest#aFormatSettingIsAFormatItNamesOrATypedRefusal",
                ConfigLoaderFuzzTest::formatText, Fuzz::escape, ConfigLoaderFuzzTest::formatSetting);
    }

    private static void formatSetting(String text) {
        String upper = text.strip().toUpperCase(Locale.ROOT);
        try {
            PixelFormat f = PatternSource.pixelFormat(text);
            assertThat(upper).as("the text names the format it gave")
                    .isIn(f.name(), org.dmabuf.api.BufferFormat.fourccName(f.v4l2Fourcc()));
            Fuzz.outcome("a format");
        } catch (InvalidArgumentException e) {
            assertThat(e.errno()).isEqualTo("EINVAL");
            assertThat(e.call()).as("the refusal names the setting").isEqualTo("--format");
            Fuzz.outcome("refused");
        }
    }
}
