package org.dmabuf.distribution;

import aQute.bnd.osgi.repository.XMLResourceParser;
import aQute.bnd.osgi.resource.ResourceUtils;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.osgi.resource.Resource;

/**
 * The repository this module builds: its {@code index.xml}, as bnd's indexer wrote it, and the bundles it names.
 * Used by one test thread at a time.
 */
final class RepositoryIndex {
    private RepositoryIndex() {
    }

    /** @return the index the build made ({@code repository.index}, set by the pom) */
    static Path index() {
        Path index = Path.of(System.getProperty("repository.index", "target/repository/index.xml"))
                .toAbsolutePath();
        if (!Files.isRegularFile(index)) {
            throw new IllegalStateException("no repository index at " + index + ": build the module (mvn package)");
        }
        return index;
    }

    /** @return every resource of the index, by its identity (the bundle's symbolic name) */
    static Map<String, Resource> resources() throws Exception {
        List<Resource> all = XMLResourceParser.getResources(index().toUri());
        return all.stream().collect(Collectors.toMap(ResourceUtils::getIdentity, Function.identity()));
    }

    /**
     * @param resource a resource of the index
     * @return where its jar is: the index's relative URL, resolved against the index
     */
    static Path jar(Resource resource) {
        URI uri = ResourceUtils.getURI(resource).orElseThrow(
                () -> new IllegalStateException("no osgi.content URL for " + ResourceUtils.getIdentity(resource)));
        return Path.of(index().toUri().resolve(uri));
    }
}
