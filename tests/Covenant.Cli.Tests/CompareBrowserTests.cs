using System.Diagnostics;
using System.Text.RegularExpressions;
using Covenant.Compiler.Compare;
using Covenant.Testing;

namespace Covenant.Cli.Tests;

/// <summary>
/// The HTML report in a real browser: tools/compare/browser-check.sh renders it with headless Debian Chromium (installing
/// it when missing, which needs root) and this test judges the DOM after scripts ran and the pixels of the screenshot.
/// </summary>
public class CompareBrowserTests
{
    [Test]
    [CancelAfter(240_000)]
    public void TheReportLoadsCleanlyAndShowsItsCharts()
    {
        var folder = Directory.CreateTempSubdirectory("covenant-compare-browser-").FullName;
        try
        {
            var report = Path.Combine(folder, "report.html");
            var run = CliRun.Of("compare", CompareCommandTests.TinySuite(folder), "--codelets", CompareCommandTests.Codelets,
                "--arch", CompareCommandTests.Vta, "--arch", CompareCommandTests.Vta32, "--only", "g16,g32", "--html", report);
            Assert.That(run.ExitCode, Is.Zero, run.ToString());

            var output = Path.Combine(folder, "browser");
            var check = Process.Start(new ProcessStartInfo("bash", [Repo.PathOf("tools", "compare", "browser-check.sh"), report, output, "3"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            var stdout = check.StandardOutput.ReadToEndAsync();
            var stderr = check.StandardError.ReadToEndAsync();
            Assert.That(check.WaitForExit(TimeSpan.FromMinutes(3)), Is.True, "the browser check did not finish in 3 minutes");
            Assert.That(check.ExitCode, Is.Zero, $"browser-check.sh failed:\n{stdout.Result}\n{stderr.Result}");

            // The DOM after the page's script ran: it ran to the end, three charts, a bar per layer and architecture in
            // each bar chart (2 x 2), a point per layer and architecture and a roof per architecture on the roofline.
            var dom = File.ReadAllText(Path.Combine(output, "dom.html"));
            Assert.That(dom, Does.Contain("data-script=\"ok\""));
            Assert.That(CompareWriterTests.SvgCount().Count(dom), Is.EqualTo(3));
            foreach (var id in new[] { "chart-speedup", "chart-utilization" })
            {
                Assert.That(CompareWriterTests.BarCount().Count(CompareWriterTests.Chart(dom, id)), Is.EqualTo(4), id);
            }

            var roofline = CompareWriterTests.Chart(dom, "chart-roofline");
            Assert.That(Regex.Count(roofline, "<circle class=\"point"), Is.EqualTo(4));
            Assert.That(Regex.Count(roofline, "class=\"roof\""), Is.EqualTo(2));
            Assert.That(File.ReadAllText(Path.Combine(output, "console.log")), Does.Not.Contain(":CONSOLE"));

            // The screenshot is a real picture, not a blank page: many colors, and both series' colors (bars and legends)
            // in quantity.
            var png = ComparePng.Read(Path.Combine(output, "screenshot.png"));
            Assert.That((png.Width, png.Height), Is.EqualTo((1400, 3000)));
            Assert.That(png.Pixels.Distinct().Count(), Is.GreaterThan(50));
            foreach (var color in SvgCharts.Palette.Take(2))
            {
                var rgb = Convert.ToInt32(color[1..], 16);
                Assert.That(png.Count(rgb), Is.GreaterThan(500), $"pixels of {color}");
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
