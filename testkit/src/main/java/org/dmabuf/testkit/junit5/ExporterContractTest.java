package org.dmabuf.testkit.junit5;

import java.util.stream.Stream;
import org.dmabuf.testkit.ContractCheck;
import org.dmabuf.testkit.ExporterContract;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The exporter contract as JUnit 5 dynamic tests, one per {@link ContractCheck}; a skipped check is reported as
 * aborted with its reason. A subclass builds the contract:
 *
 * <pre>{@code
 * class MemfdContractTest extends ExporterContractTest {
 *     private final ContractRegistry registry = ContractRegistry.of(new MemfdExporter(), MemfdExporter.properties());
 *
 *     protected ExporterContract contract() {
 *         return ExporterContract.of(registry.registry(), "memfd");
 *     }
 *
 *     protected void closeContract() {
 *         registry.close();
 *     }
 * }
 * }</pre>
 *
 * JUnit's default lifecycle (an instance per test method) gives each run of the factory its own registry.
 */
public abstract class ExporterContractTest {

    /** For subclasses. */
    protected ExporterContractTest() {
    }

    /**
     * The contract to run, over a registry that holds the exporter under test.
     *
     * @return the contract with its options
     */
    protected abstract ExporterContract contract();

    /**
     * Releases what {@link #contract()} opened (a {@code ContractRegistry}, an exporter, a device). Called after the
     * factory's tests ran; the default does nothing.
     *
     * @throws Exception when closing fails
     */
    protected void closeContract() throws Exception {
    }

    /**
     * One dynamic test per check of the contract.
     *
     * @return the tests
     */
    @TestFactory
    public Stream<DynamicTest> exporterContract() {
        return contract().checks().stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
            if (c.skipReason().isPresent()) {
                Assumptions.abort(c.skipReason().get());
            }
            try {
                c.run();
            } catch (ContractCheck.Skipped skip) {
                Assumptions.abort(skip.getMessage());
            }
        }));
    }

    /**
     * Calls {@link #closeContract()}.
     *
     * @throws Exception when closing fails
     */
    @AfterEach
    public void closeContractAfterTests() throws Exception {
        closeContract();
    }
}
