using System.Reflection;

namespace Covenant.Runtime.Tests;

/// <summary>
/// Running an artifact needs neither the mapper nor Z3: the runtime owns the program models the targets emit and
/// references only Core, Codelets and Acg. Checked on the compiled assemblies, so a stray project reference (or a
/// transitive one) fails here rather than in a deployment without libz3.
/// </summary>
public sealed class RuntimeIndependenceTests
{
    private static readonly string[] Forbidden = ["Covenant.Mapping", "Covenant.Targets", "Covenant.Compiler", "Microsoft.Z3"];

    [Test]
    public void RuntimeReferencesNeitherTheCompilerNorZ3()
    {
        var references = TransitiveReferences(typeof(TensorData).Assembly);

        Assert.Multiple(() =>
        {
            Assert.That(references, Has.Member("Covenant.Core").And.Member("Covenant.Codelets").And.Member("Covenant.Acg"));
            foreach (var name in Forbidden)
            {
                Assert.That(references, Has.No.Member(name), $"Covenant.Runtime reaches {name}");
            }
        });
    }

    // Every assembly name reachable through assembly references; framework assemblies are followed too, so nothing
    // can hide behind one. A reference that does not load is still recorded (its name is what matters).
    private static SortedSet<string> TransitiveReferences(Assembly root)
    {
        var seen = new SortedSet<string>(StringComparer.Ordinal);
        var pending = new Queue<AssemblyName>(root.GetReferencedAssemblies());
        while (pending.TryDequeue(out var name))
        {
            if (name.Name is not { } simple || !seen.Add(simple))
            {
                continue;
            }

            Assembly loaded;
            try
            {
                loaded = Assembly.Load(name);
            }
            catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException)
            {
                continue;
            }

            foreach (var reference in loaded.GetReferencedAssemblies())
            {
                pending.Enqueue(reference);
            }
        }

        return seen;
    }
}
