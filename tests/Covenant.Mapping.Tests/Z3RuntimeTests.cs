using Covenant.Mapping.Z3;

namespace Covenant.Mapping.Tests;

public sealed class Z3RuntimeTests
{
    [Test]
    public void InitializationIsIdempotentAndThreadSafe()
    {
        var seen = new Z3LibraryInfo[16];
        using var start = new Barrier(seen.Length);
        var threads = Enumerable.Range(0, seen.Length).Select(i => new Thread(() =>
        {
            start.SignalAndWait();
            seen[i] = Z3Runtime.EnsureInitialized();
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        Assert.That(seen.Distinct().ToList(), Has.Count.EqualTo(1));
        Assert.That(seen, Is.All.SameAs(seen[0]));
        Assert.That(Z3Runtime.TryInitialize().Succeeded, Is.True);
    }

    [Test]
    public void BindsTheShimExactlyWhenTheSystemLibraryLacksConcurrentDecRef()
    {
        var library = Z3Runtime.EnsureInitialized();
        TestContext.Out.WriteLine(library);

        if (!OperatingSystem.IsLinux())
        {
            Assert.That(library.Binding, Is.EqualTo(Z3Binding.Packaged));
        }
        else if (SystemLibz3.ExportsConcurrentDecRef)
        {
            Assert.That(library.Binding, Is.EqualTo(Z3Binding.System));
            Assert.That(Z3Runtime.ShimStatistics, Is.Null);
        }
        else
        {
            Assert.That(library.Binding, Is.EqualTo(Z3Binding.Shim));
            Assert.That(library.Library, Does.EndWith(Z3Runtime.ShimFileName));
            Assert.That(Z3Runtime.ShimStatistics, Is.Not.Null.And.Property(nameof(Z3ShimStatistics.Passthrough)).False);
        }
    }

    [Test]
    public void ContextsAreUsableAndReportTheLibraryVersion()
    {
        var library = Z3Runtime.EnsureInitialized();

        using var ctx = Z3Runtime.CreateContext();

        Assert.That(Microsoft.Z3.Version.FullVersion, Is.EqualTo(library.Version));
        Assert.That(ctx.MkInt(41).ToString(), Is.EqualTo("41"));
    }

    [Test]
    public void DisposedObjectsAreReleasedThroughTheShimQueue()
    {
        if (Z3Runtime.EnsureInitialized().Binding != Z3Binding.Shim)
        {
            Assert.Ignore("the shim is not in use on this machine");
        }

        using var ctx = Z3Runtime.CreateContext();
        var before = Z3Runtime.ShimStatistics!;
        var x = ctx.MkIntConst("x");
        x.Dispose(); // a dec_ref on the context's own thread: queued too, run at the next drain point
        var afterDispose = Z3Runtime.ShimStatistics!;
        using var y = ctx.MkIntConst("y"); // wrapping y calls Z3_inc_ref, a drain point
        var afterNext = Z3Runtime.ShimStatistics!;

        Assert.That(afterDispose.Deferred, Is.GreaterThan(before.Deferred));
        Assert.That(afterNext.Drained, Is.GreaterThan(afterDispose.Drained));
    }

    [Test]
    public void CreateContextRejectsANonPositiveTimeout()
    {
        Assert.That(() => Z3Runtime.CreateContext(0), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }
}
