package org.dmabuf.examples.hugetlb;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * docs/writing-an-exporter.md quotes this module's files (and the itests that run the kit): every Java or XML block
 * of it whose introducing line names a source file is found, line by line and in order, in that file, so the walk
 * through cannot drift from the code it describes. A block's lines are compared without their indentation; a line
 * of {@code …} in a block stands for lines left out. Runs on the build's thread only.
 */
class WritingAnExporterDocTest {
    private static final Path MODULE = Path.of("").toAbsolutePath();
    private static final Path ROOT = MODULE.getParent().getParent();
    private static final Pattern FENCE = Pattern.compile("^```(java|xml)$");
    private static final Pattern FILE = Pattern.compile("`([\\w./-]+\\.(?:java|xml))`");

    @TestFactory
    Stream<DynamicTest> everyQuotedBlockIsInTheFileItNames() throws IOException {
        List<String> doc = Files.readAllLines(ROOT.resolve("docs/writing-an-exporter.md"));
        List<DynamicTest> tests = new ArrayList<>();
        for (int i = 0; i < doc.size(); i++) {
            if (!FENCE.matcher(doc.get(i)).matches()) {
                continue;
            }
            int end = i + 1;
            while (!doc.get(end).equals("```")) {
                end++;
            }
            List<String> block = doc.subList(i + 1, end);
            String intro = introduction(doc, i);
            Matcher m = FILE.matcher(intro);
            String named = null;
            while (m.find()) {
                named = m.group(1);
            }
            int line = i + 1;
            if (named != null) {
                String file = named;
                tests.add(DynamicTest.dynamicTest("line " + line + ": " + file,
                        () -> assertQuoted(block, resolve(file), line)));
            }
            i = end;
        }
        assertThat(tests).as("blocks that name their file").hasSizeGreaterThanOrEqualTo(10);
        return tests.stream();
    }

    /** The last non-empty line before the fence at {@code fence}. */
    private static String introduction(List<String> doc, int fence) {
        for (int j = fence - 1; j >= 0; j--) {
            if (!doc.get(j).isBlank()) {
                return doc.get(j);
            }
        }
        return "";
    }

    private static Path resolve(String named) throws IOException {
        if (named.contains("/")) {
            Path p = ROOT.resolve(named);
            assertThat(p).as("the file the doc names").isRegularFile();
            return p;
        }
        try (Stream<Path> files = Files.walk(MODULE.resolve("src"))) {
            List<Path> found = files.filter(p -> p.getFileName().toString().equals(named)).toList();
            assertThat(found).as("files named " + named + " in " + MODULE).hasSize(1);
            return found.get(0);
        }
    }

    private static void assertQuoted(List<String> block, Path file, int line) throws IOException {
        List<String> source = Files.readAllLines(file).stream().map(String::strip).toList();
        int at = 0;
        for (String quoted : block) {
            String q = quoted.strip();
            if (q.isEmpty() || q.equals("…") || q.equals("// …") || q.equals("<!-- … -->")) {
                continue;
            }
            int found = -1;
            for (int k = at; k < source.size(); k++) {
                if (source.get(k).equals(q)) {
                    found = k;
                    break;
                }
            }
            assertThat(found).as("docs/writing-an-exporter.md line %d: \"%s\" is in %s after line %d", line, q,
                    ROOT.relativize(file), at).isGreaterThanOrEqualTo(0);
            at = found + 1;
        }
    }
}
