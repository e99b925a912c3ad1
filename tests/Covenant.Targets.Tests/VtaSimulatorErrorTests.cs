using Covenant.Core.Diagnostics;
using Covenant.Runtime.Vta;
using Covenant.Targets.Vta;
using static Covenant.Runtime.Vta.VtaSimulatorDiagnostics;
using static Covenant.Targets.Tests.VtaTestSupport;

namespace Covenant.Targets.Tests;

/// <summary>Every rule the simulator enforces, broken once, with the instruction it must name.</summary>
public sealed class VtaSimulatorErrorTests
{
    private static readonly VtaGemm Reset1 = new() { ResetReg = true, UopEnd = 1 };

    /// <summary>Runs against a 64 KiB image mapped at physical address 0, so dram_base 0 is valid.</summary>
    private static VtaRunResult Run(params VtaInstruction[] program) => VtaTestSupport.Run(Config, program, SmallImage());

    private static DramImage SmallImage() => new(Config, 1 << 16, physicalBase: 0);

    [Test]
    public void DeadlockNamesEachBlockedModule()
    {
        var result = Run(
            Load(VtaMemoryType.Inp, 0, 0, 1, 1, 1, new VtaDeps(PopNext: true, PushNext: true)), // waits for g2l
            new VtaGemm { Deps = new VtaDeps(PopPrev: true, PushPrev: true) },                    // waits for l2g
            new VtaFinish());
        var issue = Expect(result, Deadlock);
        Assert.That(result.Completed, Is.False);
        Assert.That(issue.Message, Does.Contain("the load module waits at #0 (LOAD INP sram=0 dram=0x0 y=1 x=1 stride=1 [pop_next push_next]) for a token in g2l (compute → load), which is empty"));
        Assert.That(issue.Message, Does.Contain("the compute module waits at #1 (GEMM").And.Contain("for a token in l2g (load → compute)"));
        Assert.That(issue.Message, Does.Contain("the store module has finished its 0 instructions"));
    }

    [Test]
    public void LeftoverTokensAreReported()
    {
        var result = Run(
            Load(VtaMemoryType.Inp, 0, 0, 1, 1, 1, PushNext),
            Load(VtaMemoryType.Inp, 1, 0, 1, 1, 1, PushNext),
            new VtaFinish { Deps = PopPrev });
        var issue = Expect(result, LeftoverToken);
        Assert.That(issue.InstructionIndex, Is.EqualTo(1));
        Assert.That(issue.Message, Does.Contain("1 token(s) left in l2g"));

        // FINISH popped the first token only, so it does not wait for the second load either.
        Expect(result, FinishDependency);
    }

    [TestCase(VtaModule.Load, "pop_prev_dep")]
    [TestCase(VtaModule.Load, "push_prev_dep")]
    [TestCase(VtaModule.Store, "pop_next_dep")]
    [TestCase(VtaModule.Store, "push_next_dep")]
    public void FlagWithNoQueue(VtaModule module, string flag)
    {
        var deps = flag switch
        {
            "pop_prev_dep" => PopPrev,
            "push_prev_dep" => PushPrev,
            "pop_next_dep" => PopNext,
            _ => PushNext,
        };
        var result = Run(VtaLoad.Nop(module, deps), new VtaFinish());
        var issue = Expect(result, IllegalDependencyFlag);
        Assert.That(issue.InstructionIndex, Is.EqualTo(0));
        Assert.That(issue.Message, Does.StartWith($"{flag} is set, but the {VtaDependencyRules.Name(module)} module has no"));
        Assert.That(result.Statistics.InstructionsExecuted, Is.Zero, "the stream is not run");
    }

    [Test]
    public void FinishNotLast()
    {
        var result = Run(new VtaFinish(), Reset1);
        var issue = Expect(result, FinishPlacement);
        Assert.That(issue.InstructionIndex, Is.EqualTo(1));
        Assert.That(issue.Message, Does.Contain("FINISH is not the last compute instruction"));

        var storeAfter = Run(new VtaFinish(), VtaLoad.Nop(VtaModule.Store, default));
        Assert.That(Expect(storeAfter, FinishPlacement).Message, Does.Contain("follow FINISH (#0)"));
    }

    [Test]
    public void MissingFinish()
    {
        var result = Run(Reset1);
        Assert.That(Expect(result, FinishPlacement).Message, Does.Contain("has no FINISH"));
        Assert.That(result.Completed, Is.False);
    }

    [Test]
    public void FinishMustDependOnTheLastStore()
    {
        var image = SmallImage();
        var result = VtaTestSupport.Run(Config,
        [
            new VtaAlu { AluOpcode = VtaAluOpcode.Add, UseImm = true, UopEnd = 1, Deps = PushNext },
            Store(0, image.Alloc(16) / 16, 1, 1, 1, PopPrev),
            new VtaFinish(),
        ], image);
        var issue = Expect(result, FinishDependency);
        Assert.That(issue.InstructionIndex, Is.EqualTo(2));
        Assert.That(issue.Message, Does.Contain("FINISH does not wait for store #1 (STORE OUT"));
    }

    [TestCase(8, false)]
    [TestCase(9, true)]
    public void AtMostEightOutstandingTokens(int loads, bool overflow)
    {
        // The load module pushes `loads` tokens without waiting; the compute module pops them one by one.
        var program = new List<VtaInstruction>();
        program.AddRange(Enumerable.Range(0, loads).Select(i => Load(VtaMemoryType.Inp, i, 0, 1, 1, 1, PushNext)));
        program.AddRange(Enumerable.Range(0, loads).Select(_ => ComputeNop(PopPrev)));
        program.Add(new VtaFinish());
        var result = VtaTestSupport.Run(Config, program, SmallImage());
        Assert.That(result.Statistics.WorstCaseOutstandingTokens[(int)VtaQueue.LoadToCompute], Is.EqualTo(loads));
        if (!overflow)
        {
            Assert.That(result.Succeeded, Is.True, Describe(result));
            return;
        }

        var issue = Expect(result, TokenOverflow);
        Assert.That(issue.InstructionIndex, Is.EqualTo(8));
        Assert.That(issue.Message, Does.Contain("up to 9 tokens can be outstanding in l2g").And.Contain("holds 8"));
    }

    [Test]
    public void BackPressureKeepsTokensBounded()
    {
        // Twenty pushes, but the load module waits for a token back every two: never more than 2 outstanding.
        var program = new List<VtaInstruction>();
        for (var i = 0; i < 20; i++)
        {
            program.Add(Load(VtaMemoryType.Inp, i % 2, 0, 1, 1, 1, new VtaDeps(PopNext: i >= 2, PushNext: true)));
        }

        for (var i = 0; i < 20; i++)
        {
            program.Add(ComputeNop(new VtaDeps(PopPrev: true, PushPrev: i < 18)));
        }

        program.Add(new VtaFinish());
        var result = VtaTestSupport.Run(Config, program, SmallImage());
        Assert.That(result.Succeeded, Is.True, Describe(result));
        Assert.That(result.Statistics.WorstCaseOutstandingTokens[(int)VtaQueue.LoadToCompute], Is.EqualTo(2));
    }

    [Test]
    public void LoadBeyondTheSram()
    {
        var result = Run(Load(VtaMemoryType.Inp, 2047, 0, 1, 2, 2, PushNext), new VtaFinish { Deps = PopPrev });
        var issue = Expect(result, SramOutOfRange);
        Assert.That(issue.InstructionIndex, Is.EqualTo(0));
        Assert.That(issue.Message, Does.Contain("writes INP rows [2047, 2049)").And.Contain("has 2048 rows"));
        Assert.That(issue.Instruction, Is.EqualTo("LOAD INP sram=2047 dram=0x0 y=1 x=2 stride=2 [push_next]"));
    }

    [Test]
    public void PaddingCountsTowardsTheSramBlock()
    {
        var padded = Load(VtaMemoryType.Inp, 2040, 0, 1, 1, 1, PushNext) with { YPad0 = 3, XPad1 = 1 };
        var fits = Run(padded, new VtaFinish { Deps = PopPrev });
        Assert.That(fits.Succeeded, Is.True, "4 rows of 2 elements fit exactly: " + Describe(fits));
        var issue = Expect(Run(padded with { YPad1 = 1 }, new VtaFinish { Deps = PopPrev }), SramOutOfRange);
        Assert.That(issue.Message, Does.Contain("[2040, 2050)"));
    }

    [Test]
    public void GemmIndexBeyondTheAccumulator()
    {
        var image = SmallImage();
        var uops = image.PutUops([new VtaUop(3, 0, 0), new VtaUop(1000, 0, 0)]);
        var result = VtaTestSupport.Run(Config,
        [
            Load(VtaMemoryType.Uop, 0, uops / 4, 1, 2, 2),
            new VtaGemm { UopEnd = 2, IterOut = 2, IterIn = 3, DstFactorOut = 600, DstFactorIn = 300 },
            new VtaFinish(),
        ], image);
        var issue = Expect(result, SramOutOfRange);
        Assert.That(issue.InstructionIndex, Is.EqualTo(1));
        Assert.That(issue.Message, Is.EqualTo("uop #1 (uop(dst=1000 src=0 wgt=0)) at i=1, j=2 addresses ACC row 2200 through its dst index, but the ACC buffer has 2048 rows"));
    }

    [Test]
    public void AluWithAnImmediateStillRangeChecksItsSourceIndex()
    {
        // The immediate replaces ACC[src], but the reference simulator checks the src index all the same and aborts.
        var image = SmallImage();
        var uops = image.PutUops([new VtaUop(0, 2047, 0)]);
        var result = VtaTestSupport.Run(Config,
        [
            Load(VtaMemoryType.Uop, 0, uops / 4, 1, 1, 1),
            new VtaAlu { AluOpcode = VtaAluOpcode.Add, UseImm = true, Imm = 1, UopEnd = 1, IterIn = 2, SrcFactorIn = 1 },
            new VtaFinish(),
        ], image);
        var issue = Expect(result, SramOutOfRange);
        Assert.That(issue.Message, Does.Contain("addresses ACC row 2048 through its src index, but the ACC buffer has 2048 rows"));
    }

    [Test]
    public void GemmReadBeyondTheWeights()
    {
        var image = SmallImage();
        var uops = image.PutUops([new VtaUop(0, 0, 1000)]);
        var result = VtaTestSupport.Run(Config,
        [
            Load(VtaMemoryType.Uop, 0, uops / 4, 1, 1, 1),
            new VtaGemm { UopEnd = 1, IterIn = 30, DstFactorIn = 1, WgtFactorIn = 1 },
            new VtaFinish(),
        ], image);
        var issue = Expect(result, SramOutOfRange);
        Assert.That(issue.Message, Does.Contain("addresses WGT row 1029 through its wgt index, but the WGT buffer has 1024 rows"));
    }

    [Test]
    public void UopRangeBeyondTheBuffer()
    {
        var issue = Expect(Run(new VtaGemm { UopBegin = 8000, UopEnd = 8193 }, new VtaFinish()), SramOutOfRange);
        Assert.That(issue.Message, Does.Contain("[8000, 8193) reaches beyond the UOP buffer's 8192 entries"));
    }

    [Test]
    public void DramAccessOutsideTheImage()
    {
        var image = new DramImage(Config, 1 << 12, physicalBase: 0x40000);
        var result = VtaTestSupport.Run(Config, [Load(VtaMemoryType.Wgt, 0, 0x40000 / 256, 1, 17, 17, PushNext), new VtaFinish { Deps = PopPrev }], image);
        var issue = Expect(result, DramOutOfRange);
        Assert.That(issue.Message, Does.Contain("reads DRAM bytes [0x40000, 0x41100)").And.Contain("outside the DRAM image [0x40000, 0x41000)"));

        var below = VtaTestSupport.Run(Config, [Load(VtaMemoryType.Inp, 0, 0, 1, 1, 1, PushNext), new VtaFinish { Deps = PopPrev }], image);
        Expect(below, DramOutOfRange);
    }

    [Test]
    public void YSizeZeroWithData()
    {
        var issue = Expect(Run(Load(VtaMemoryType.Inp, 0, 0, 0, 4, 4, PushNext), new VtaFinish { Deps = PopPrev }), BadTransfer);
        Assert.That(issue.Message, Does.Contain("y_size is 0 while x_size is 4"));
    }

    [Test]
    public void StoreOfSomethingOtherThanOut()
    {
        var store = Store(0, 0, 1, 1, 1) with { MemoryType = VtaMemoryType.Inp };
        Assert.That(Expect(Run(store, new VtaFinish()), BadTransfer).Message, Does.Contain("STORE must use memory type OUT, not INP"));
        Assert.That(Expect(Run(Store(0, 0, 1, 1, 1) with { XPad0 = 1 }, new VtaFinish()), BadTransfer).Message, Does.Contain("cannot pad"));
    }

    [Test]
    public void StoredRowLastWrittenByAResetGemm()
    {
        var image = SmallImage();
        var uops = image.PutUops([new VtaUop(0, 0, 0)]);
        var output = image.Alloc(16);
        VtaInstruction[] program =
        [
            Load(VtaMemoryType.Uop, 0, uops / 4, 1, 1, 1),
            Reset1 with { Deps = PushNext },
            Store(0, output / 16, 1, 1, 1, new VtaDeps(PopPrev: true, PushPrev: true)),
            new VtaFinish { Deps = PopNext },
        ];
        var strict = VtaTestSupport.Run(Config, program, image);
        var issue = Expect(strict, StaleOutRow);
        Assert.That(issue.InstructionIndex, Is.EqualTo(2));
        Assert.That(issue.Message, Does.Contain("first: ACC row 0, last written by a reset GEMM"));

        // The fsim would store the truncated zeros; as a warning the run succeeds.
        var lenient = VtaTestSupport.Run(Config, program, image, new VtaSimulatorOptions { Strict = false });
        Assert.That(lenient.Succeeded, Is.True);
        Expect(lenient, StaleOutRow, Severity.Warning);
    }

    [Test]
    public void StoredRowNeverWrittenOrOnlyLoaded()
    {
        var image = SmallImage();
        var acc = image.Put(new int[16]);
        var output = image.Alloc(32);
        var result = VtaTestSupport.Run(Config,
        [
            Load(VtaMemoryType.Acc, 0, acc / 64, 1, 1, 1, PushNext),
            Store(0, output / 16, 1, 2, 2, new VtaDeps(PopPrev: true, PushPrev: true)),
            new VtaFinish { Deps = PopNext },
        ], image);
        Assert.That(Expect(result, StaleOutRow).Message, Does.StartWith("2 of the 2 stored rows").And.Contain("last written by a LOAD ACC"));
    }

    [Test]
    public void PipelineHazardWithinAKernel()
    {
        var image = SmallImage();
        var uops = image.PutUops([new VtaUop(0, 0, 0), new VtaUop(1, 0, 0), new VtaUop(0, 1, 0)]);
        var result = VtaTestSupport.Run(Config,
        [
            Load(VtaMemoryType.Uop, 0, uops / 4, 1, 3, 3),
            new VtaGemm { UopEnd = 3 },
            new VtaFinish(),
        ], image);
        var issue = Expect(result, PipelineHazard);
        Assert.That(issue.Message, Does.StartWith("uop #2 at i=0, j=0 writes ACC row 0, which the micro-op 2 before it also wrote"));
    }

    [Test]
    public void PipelineHazardAcrossLoopIterations()
    {
        // One uop accumulating over iter_in with dst_factor_in 0: the same row every cycle.
        var image = SmallImage();
        var uops = image.PutUops([new VtaUop(0, 0, 0)]);
        VtaInstruction[] program =
        [
            Load(VtaMemoryType.Uop, 0, uops / 4, 1, 1, 1),
            new VtaGemm { UopEnd = 1, IterIn = 4, SrcFactorIn = 1, WgtFactorIn = 1 },
            new VtaFinish(),
        ];
        var issue = Expect(VtaTestSupport.Run(Config, program, image), PipelineHazard);
        Assert.That(issue.Message, Does.StartWith("uop #0 at i=0, j=1 writes ACC row 0, which the micro-op 1 before it also wrote"));

        // Three rows in rotation are far enough apart; the ALU obeys the same rule.
        var rotate = image.PutUops([new VtaUop(0, 0, 0), new VtaUop(1, 0, 0), new VtaUop(2, 0, 0)]);
        var ok = VtaTestSupport.Run(Config,
        [
            Load(VtaMemoryType.Uop, 0, rotate / 4, 1, 3, 3),
            new VtaGemm { UopEnd = 3, IterOut = 5, SrcFactorOut = 1 },
            new VtaAlu { AluOpcode = VtaAluOpcode.Max, UseImm = true, UopEnd = 3, IterIn = 2 },
            new VtaAlu { AluOpcode = VtaAluOpcode.Max, UseImm = true, UopEnd = 2, IterIn = 2 },
            new VtaFinish(),
        ], image);
        Assert.That(ok.Issues.Select(i => (i.Id, i.InstructionIndex)), Is.EqualTo(new[] { (PipelineHazard.Id, (int?)3) }));
    }

    [Test]
    public void ShiftAmountsOutsideThePortableRange()
    {
        Assert.That(Expect(Run(new VtaAlu { AluOpcode = VtaAluOpcode.Shr, UseImm = true, Imm = 32, UopEnd = 1 }, new VtaFinish()), ShiftOutOfRange).Message,
            Does.Contain("SHR by 32"));
        Assert.That(Expect(Run(new VtaAlu { AluOpcode = VtaAluOpcode.Shr, UseImm = true, Imm = -1, UopEnd = 1 }, new VtaFinish()), NotPortable).Message,
            Does.Contain("keep SHR amounts in [0, 31]"));

        // A shift amount that comes from ACC is checked lane by lane.
        var image = SmallImage();
        var amounts = new int[32];
        amounts[16 + 5] = 40;
        var acc = image.Put(amounts);
        var uops = image.PutUops([new VtaUop(0, 1, 0)]);
        var result = VtaTestSupport.Run(Config,
        [
            Load(VtaMemoryType.Uop, 0, uops / 4, 1, 1, 1),
            Load(VtaMemoryType.Acc, 0, acc / 64, 1, 2, 2),
            new VtaAlu { AluOpcode = VtaAluOpcode.Shr, UopEnd = 1 },
            new VtaFinish(),
        ], image);
        Assert.That(Expect(result, ShiftOutOfRange).Message, Does.Contain("shifts lane 5 by 40"));
    }

    [Test]
    public void PortabilityRulesForLoads()
    {
        var padWgt = Load(VtaMemoryType.Wgt, 0, 0, 1, 1, 1, PushNext) with { XPad0 = 1 };
        Assert.That(Expect(Run(padWgt, new VtaFinish { Deps = PopPrev }), NotPortable).Message, Does.Contain("ignores pads on WGT loads"));

        var uop2d = Load(VtaMemoryType.Uop, 0, 0, 2, 4, 4);
        Assert.That(Expect(Run(uop2d, new VtaFinish()), NotPortable).Message, Does.Contain("y_size is 2; use y_size 1"));
    }

    [Test]
    public void MissingTokenIsADataRace()
    {
        // The GEMM reads INP row 0 before it pops the token of the load that writes it.
        var image = SmallImage();
        var data = image.Put(new sbyte[16]);
        var uops = image.PutUops([new VtaUop(0, 0, 0)]);
        var result = VtaTestSupport.Run(Config,
        [
            Load(VtaMemoryType.Inp, 0, data / 16, 1, 1, 1, PushNext),
            Load(VtaMemoryType.Uop, 0, uops / 4, 1, 1, 1),
            new VtaGemm { UopEnd = 1 },
            ComputeNop(PopPrev),
            new VtaFinish(),
        ], image);
        var issue = Expect(result, DataRace);
        Assert.That(issue.InstructionIndex, Is.EqualTo(2));
        Assert.That(issue.Message, Does.Contain("reads INP row 0, which #0 (LOAD INP").And.Contain("missing load→compute"));
        Assert.That(result.Errors.Select(e => e.Id), Is.EqualTo(new[] { DataRace.Id }));
        Assert.That(result.Completed, Is.True);
    }

    [Test]
    public void OverwritingABufferStillInUseIsADataRace()
    {
        // The load module reloads INP row 0 for the next tile without waiting for the compute module's token.
        var image = SmallImage();
        var data = image.Put(new sbyte[32]);
        var uops = image.PutUops([new VtaUop(0, 0, 0)]);
        var result = VtaTestSupport.Run(Config,
        [
            Load(VtaMemoryType.Inp, 0, data / 16, 1, 1, 1, PushNext),
            Load(VtaMemoryType.Inp, 0, (data / 16) + 1, 1, 1, 1, PushNext),
            Load(VtaMemoryType.Uop, 0, uops / 4, 1, 1, 1),
            new VtaGemm { UopEnd = 1, Deps = PopPrev },
            new VtaGemm { UopEnd = 1, Deps = PopPrev },
            new VtaFinish(),
        ], image);
        Assert.That(result.Errors.Select(e => e.Id), Does.Contain(DataRace.Id));
        var issue = result.Errors.First(e => e.Id == DataRace.Id);
        Assert.That(issue.Message, Does.Contain("overwrites INP row 0, which #3 (GEMM").Or.Contain("reads INP row 0"));
    }

    [Test]
    public void StoreBeforeTheResultIsReadyIsADataRace()
    {
        var image = SmallImage();
        var uops = image.PutUops([new VtaUop(0, 0, 0)]);
        var output = image.Alloc(16);
        var result = VtaTestSupport.Run(Config,
        [
            Load(VtaMemoryType.Uop, 0, uops / 4, 1, 1, 1),
            new VtaAlu { AluOpcode = VtaAluOpcode.Add, UseImm = true, Imm = 1, UopEnd = 1 },
            Store(0, output / 16, 1, 1, 1, PushPrev),
            new VtaFinish { Deps = PopNext },
        ], image);
        // Whichever access the simulated schedule puts second reports the race, naming the other one.
        var issue = Expect(result, DataRace);
        Assert.That(issue.InstructionIndex, Is.EqualTo(2).Or.EqualTo(1));
        Assert.That(issue.Text, Does.Contain("#1 (ALU ADD").And.Contain("#2 (STORE OUT").And.Contain("ACC row 0"));
    }

    [Test]
    public void LoadingWhatAStoreWritesNeedsATokenChain()
    {
        var image = SmallImage();
        var uops = image.PutUops([new VtaUop(0, 0, 0)]);
        var buffer = image.Alloc(16);
        VtaInstruction[] Program(bool chained) =>
        [
            Load(VtaMemoryType.Uop, 0, uops / 4, 1, 1, 1),
            new VtaAlu { AluOpcode = VtaAluOpcode.Add, UseImm = true, Imm = 1, UopEnd = 1, Deps = PushNext },
            Store(0, buffer / 16, 1, 1, 1, new VtaDeps(PopPrev: true, PushPrev: true)),
            ComputeNop(new VtaDeps(PopNext: true, PushPrev: chained)),
            Load(VtaMemoryType.Inp, 0, buffer / 16, 1, 1, 1, new VtaDeps(PopNext: chained, PushNext: true)),
            new VtaFinish { Deps = PopPrev },
        ];
        var racy = VtaTestSupport.Run(Config, Program(false), image);
        var race = Expect(racy, DataRace);
        Assert.That(race.Text, Does.Contain("DRAM bytes near 0x").And.Contain("#2 (STORE OUT").And.Contain("#4 (LOAD INP"));
        var ordered = VtaTestSupport.Run(Config, Program(true), image);
        Assert.That(ordered.Succeeded, Is.True, Describe(ordered));
    }

    [Test]
    public void UndecodableBytesAndUnencodableRecords()
    {
        var bytes = new byte[32];
        bytes[0] = 6;
        var result = new VtaSimulator(Config).Run(bytes, new DramImage(Config, 4096).Dram);
        Assert.That(Expect(result, InvalidInstruction).Message, Does.Contain("instruction #0: invalid opcode 6"));

        var wide = Run(new VtaGemm { UopEnd = 20000 }, new VtaFinish());
        var issue = Expect(wide, InvalidInstruction);
        Assert.That(issue.InstructionIndex, Is.EqualTo(0));
        Assert.That(issue.Message, Is.EqualTo("field uop_end = 20000 does not fit its 14 bits"));

        var op = Expect(Run(new VtaAlu { AluOpcode = (VtaAluOpcode)6 }, new VtaFinish()), InvalidInstruction);
        Assert.That(op.Message, Does.Contain("ALU opcode 6 does not exist"));
    }

    [Test]
    public void IssuesOfOneKindAreCapped()
    {
        var program = Enumerable.Range(0, 15).Select(_ => (VtaInstruction)new VtaAlu { AluOpcode = VtaAluOpcode.Mul, UopEnd = 1 }).Append(new VtaFinish()).ToList();
        var result = VtaTestSupport.Run(Config, program, new DramImage(Config, 4096));
        Assert.That(result.Issues.Count(i => i.Id == NotPortable.Id), Is.EqualTo(10));
        Assert.That(result.Issues.Single(i => i.Id == IssuesSuppressed.Id).Message, Does.StartWith("5 more COV6113"));
    }
}
