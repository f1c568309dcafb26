package dev.eventproc;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import java.util.Objects;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Dependencies between packages point one way (see README, Layout): no cycles between any two
 * packages, adapters ({@code sink.<adapter>}) never import each other, and the sink core never imports
 * an adapter; only the registry ({@code sink.registry}) and the layers above it know every adapter.
 * Reads the compiled main classes, so a dependency hidden in a fully qualified name counts too.
 */
class PackageDependencyTest {
  private static final String ROOT = "dev.eventproc";
  private static final String CORE = ROOT + ".sink";
  private static final String REGISTRY = CORE + ".registry";
  private static final DescribedPredicate<JavaClass> ADAPTER =
      DescribedPredicate.describe("reside in an adapter (sink.<adapter>)", c -> adapterOf(c) != null);
  private static JavaClasses main;

  @BeforeAll
  static void importMainClasses() {
    main = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages(ROOT);
  }

  @Test
  void noPackageCycles() {
    slices().matching(ROOT + ".(**)").should().beFreeOfCycles().check(main);
  }

  @Test
  void adaptersDoNotImportEachOther() {
    classes().that(ADAPTER).should(new ArchCondition<JavaClass>("not depend on another adapter") {
      @Override
      public void check(JavaClass origin, ConditionEvents events) {
        for (Dependency d : origin.getDirectDependenciesFromSelf()) {
          String target = adapterOf(d.getTargetClass());
          if (target != null && !target.equals(adapterOf(origin))) {
            events.add(SimpleConditionEvent.violated(d, d.getDescription()));
          }
        }
      }
    }).check(main);
  }

  @Test
  void sinkCoreDoesNotImportAnAdapter() {
    noClasses().that().resideInAPackage(CORE).should().dependOnClassesThat(ADAPTER).check(main);
  }

  @Test
  void theRulesSeeEveryAdapter() {
    // Guards the rules above against a moved package: with no adapter found they would pass on nothing.
    assertThat(main.stream().map(PackageDependencyTest::adapterOf).filter(Objects::nonNull).collect(Collectors.toSet()))
        .containsExactlyInAnyOrder("delta", "files", "iceberg", "kafka", "postgres");
  }

  /** The adapter a class belongs to ({@code delta}, {@code postgres}, ...), or null outside the adapters. */
  private static String adapterOf(JavaClass c) {
    String pkg = c.getPackageName();
    if (!pkg.startsWith(CORE + ".") || pkg.equals(REGISTRY) || pkg.startsWith(REGISTRY + ".")) {
      return null;
    }
    String rest = pkg.substring(CORE.length() + 1);
    int dot = rest.indexOf('.');
    return dot < 0 ? rest : rest.substring(0, dot);
  }
}
