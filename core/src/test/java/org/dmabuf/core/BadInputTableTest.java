package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@code docs/bad-input.md} is the table {@link BadInputTable} makes: the test writes it to
 * {@code target/bad-input.md} and fails if the committed file differs; {@code -Dbadinput.write=true} writes the
 * committed file instead (the command is in the file's head).
 */
class BadInputTableTest {
    private static final Path DOC = Path.of("../docs/bad-input.md");

    @Test
    void theCommittedTableIsTheGeneratedOne() throws Exception {
        String table = BadInputTable.markdown();
        Files.createDirectories(Path.of("target"));
        Files.writeString(Path.of("target/bad-input.md"), table);
        if (Boolean.getBoolean("badinput.write")) {
            Files.writeString(DOC, table);
        }
        assertThat(DOC).as("docs/bad-input.md: regenerate it with -Dbadinput.write=true (see its head)").exists();
        assertThat(Files.readString(DOC)).as("docs/bad-input.md against target/bad-input.md; regenerate it with "
                + "-Dbadinput.write=true").isEqualTo(table);
    }

    @Test
    void rowsHaveUniqueIdsAndTheIssuesSixtyCasesAreThere() {
        Set<String> ids = new HashSet<>();
        for (BadInputCase r : BadInputTable.ROWS) {
            assertThat(ids.add(r.id())).as("unique id %s", r.id()).isTrue();
            assertThat(r.where()).isIn("host", "guest");
            assertThat(r.module()).isIn("core", "exporter-heap", "exporter-drm", "exporter-v4l2", "gateway");
        }
        assertThat(BadInputTable.ROWS).hasSizeGreaterThanOrEqualTo(60);
    }
}
