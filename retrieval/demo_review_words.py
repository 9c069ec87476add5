"""Phrase banks for demo reviews, English and Chinese, written for this project.

Per aspect: subjects ("battery life", "续航") that slot into generic templates ("{s} is really good",
"{s}一般般"), and whole clauses ("the battery dies way too fast", "物流太慢了"), some specific to a category.
Every entry has a known polarity, so a review's text agrees with the aspect qualities it was drawn from.
Knows nothing about randomness, products or stars; demo_reviews composes reviews from these banks.
"""
from __future__ import annotations


def _s(text: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in text.split("|") if x.strip())


# aspect -> (English name, Chinese name); the names the sentiment-summary tool can also use
ASPECTS = {
    "battery": ("battery", "电池"), "sound": ("sound", "音质"), "comfort": ("comfort", "舒适"),
    "fit": ("size/fit", "尺码"), "quality": ("build quality", "质量"), "delivery": ("delivery", "物流"),
    "value": ("value for money", "性价比"), "performance": ("performance", "性能"), "camera": ("camera", "拍照"),
    "display": ("display", "屏幕"), "effect": ("effect", "效果"), "design": ("design", "外观"),
}

SUBJECTS = {
    "en": {
        "battery": _s("the battery | battery life | the battery backup"),
        "sound": _s("the sound | sound quality | the audio | the bass"),
        "comfort": _s("comfort | the comfort level | the feel"),
        "fit": _s("the fit | the sizing | the size"),
        "quality": _s("build quality | the quality | the material | the finish"),
        "delivery": _s("delivery | the delivery | shipping | the packaging"),
        "value": _s("value for money | the price | the value"),
        "performance": _s("performance | the speed | overall performance"),
        "camera": _s("the camera | camera quality | photo quality"),
        "display": _s("the display | the screen | screen quality"),
        "effect": _s("the result | the effect on my skin | the effect"),
        "design": _s("the design | the look | the colour"),
    },
    "zh": {
        "battery": _s("电池 | 续航 | 待机时间"), "sound": _s("音质 | 声音 | 低音"), "comfort": _s("舒适度 | 使用感受"),
        "fit": _s("尺码 | 码数 | 大小"), "quality": _s("质量 | 做工 | 用料 | 品质"), "delivery": _s("物流 | 快递 | 包装 | 配送"),
        "value": _s("性价比"), "performance": _s("性能 | 速度 | 运行速度"), "camera": _s("拍照 | 相机 | 拍照效果"),
        "display": _s("屏幕 | 显示效果"), "effect": _s("效果 | 使用效果"), "design": _s("外观 | 颜值 | 设计"),
    },
}

INTENSIFIERS = {"en": ("", "", "really ", "very ", "super ", "extremely ", "incredibly ", "pretty ", "quite "),
                "zh": ("很", "很", "非常", "特别", "超级", "挺", "相当", "真的很")}
NEG_INTENSIFIERS = {"en": ("", "", "really ", "very ", "pretty ", "extremely "), "zh": ("很", "非常", "特别", "太")}

# templates over a subject {s}; {i} is an intensifier. Keys: strength (+2 strong .. -2 strong negative)
SUBJECT_TEMPLATES = {
    "en": {
        2: _s("{s} is {i}good | {s} is {i}great | {s} is excellent | {s} is superb | {s} is {i}impressive | "
              "{s} is top-notch | {s} exceeded my expectations | {s} is better than I expected | "
              "no complaints about {s} | {s} is spot on | I have nothing bad to say about {s} | "
              "{s} is simply amazing | loved {s}"),
        1: _s("{s} is not bad | {s} is decent | {s} is fine | {s} is good enough | {s} is alright | "
              "{s} is acceptable | {s} is pretty decent | {s} does the job"),
        -1: _s("{s} could be better | {s} is just average | {s} is not great | {s} is nothing special | "
               "{s} is a bit weak | {s} is not up to the mark | {s} is mediocre | {s} is so-so"),
        -2: _s("{s} is {i}poor | {s} is {i}bad | {s} is terrible | {s} is {i}disappointing | {s} is awful | "
               "{s} is horrible | {s} is a big letdown | {s} is worse than I expected | {s} is below average | {s} is a joke | "
               "I am not happy with {s} | {s} is not good at all | hated {s}"),
    },
    "zh": {
        2: _s("{s}{i}好 | {s}{i}不错 | {s}{i}棒 | {s}没得说 | {s}超出预期 | {s}让人满意 | {s}可以打满分 | "
              "{s}没有任何问题 | {s}挑不出毛病 | {s}很给力 | 最喜欢的是{s}"),
        1: _s("{s}还可以 | {s}还行 | {s}不差 | {s}凑合 | {s}不算差 | {s}还算满意 | {s}中规中矩"),
        -1: _s("{s}一般 | {s}一般般 | {s}不太好 | {s}有待提高 | {s}不太理想 | {s}马马虎虎 | {s}不太行 | {s}不怎么样"),
        -2: _s("{s}{i}差 | {s}太差了 | {s}让人失望 | {s}不行 | {s}真心不好 | {s}和描述的不一样 | {s}一点都不好 | "
               "对{s}很不满意 | {s}差到极点 | {s}不好 | {s}不给力"),
    },
}

# (lang, aspect) -> (positive clauses, negative clauses)
CLAUSES = {
    ("en", "battery"): (_s("the battery easily lasts all day | battery life is outstanding, I charge it every few days | "
                           "it runs for days on a single charge | never had to worry about the battery | "
                           "the battery backup is better than advertised | it charges quickly and holds the charge well"),
                        _s("the battery dies way too fast | the battery drains within a few hours | "
                           "I have to charge it twice a day | battery backup is nowhere near what was advertised | "
                           "the battery barely lasts half a day | it doesn't hold a charge for long")),
    ("en", "sound"): (_s("the bass is deep and punchy | vocals sound crisp and clear | music sounds rich and detailed | "
                         "the sound stays balanced at every volume | noise cancellation blocks out traffic completely | "
                         "calls are clear on both ends"),
                      _s("terrible sound, even at low volume | the sound is muddy | there is a constant hiss in the background | the bass is weak and tinny | "
                         "audio crackles at high volume | the mic is useless on calls | the left side keeps cutting out")),
    ("en", "comfort"): (_s("it is comfortable to use for hours | it stays comfortable even on long days | "
                           "you forget you are even using it | comfortable right out of the box"),
                        _s("it gets uncomfortable after a while | it is not comfortable for long use | "
                           "it becomes painful after an hour | comfort is the real problem here")),
    ("en", "fit"): (_s("the size is true to the chart | it fits perfectly | I ordered my usual size and it fits well | "
                       "the width is just right"),
                    _s("it runs a size small | it is too tight around the toes | I had to exchange it for a bigger size | "
                       "the size is way off from the chart | it is too loose at the heel")),
    ("en", "quality"): (_s("it feels solid and well built | the build quality is premium | "
                           "no issues even after months of daily use | the material feels sturdy | "
                           "the finish is excellent | very durable, it survived a few drops"),
                        _s("it feels cheap and flimsy | it stopped working within a month | "
                           "the coating started peeling after a few weeks | it broke on the second day | "
                           "the plastic feels cheap | I received a defective piece")),
    ("en", "delivery"): (_s("delivery was super quick | it arrived a day earlier than promised | "
                            "it arrived in two days, well packed | the packaging was neat and secure | "
                            "the delivery guy was polite and on time"),
                         _s("delivery took forever | it arrived a week late | the delivery was late | the box was damaged on arrival | "
                            "the courier kept postponing the delivery | the package came open and badly packed")),
    ("en", "value"): (_s("great value for money | it is worth every rupee | totally worth the price | "
                         "it is cheaper than the big brands and just as good | at this price it is a steal | "
                         "you won't find better at this price"),
                      _s("it is overpriced for what you get | it is not worth the price at all | "
                         "you can get better for less money | it is way too expensive for this quality | "
                         "I regret paying this much")),
    ("en", "performance"): (_s("it works flawlessly | it does exactly what it promises | it has never let me down"),
                            _s("it stops working randomly | it does not work as advertised | it is unreliable")),
    ("en", "camera"): (_s("photos come out sharp and detailed | the camera is brilliant in daylight | "
                          "night shots are impressive | portrait mode is excellent"),
                       _s("photos are grainy | the camera struggles in low light | the camera is slow to focus | "
                          "selfies look washed out")),
    ("en", "display"): (_s("the screen is bright and vivid | colours pop on the display | "
                           "it is readable even in direct sunlight | the display is crisp and smooth"),
                        _s("the screen is too dim outdoors | the display has a yellow tint | "
                           "there are dead pixels on the screen | the screen scratches easily")),
    ("en", "effect"): (_s("my skin feels soft and hydrated | it cleared my acne in two weeks | "
                          "it absorbs quickly with no greasiness | my skin looks brighter already | no white cast at all"),
                       _s("it broke me out | it made my skin oily | no visible difference after a month | "
                          "it caused redness and irritation | it leaves a sticky white cast")),
    ("en", "design"): (_s("it looks stylish | the colour is exactly as shown | the design is sleek and modern | "
                          "I get compliments all the time"),
                       _s("it looks cheap | the colour is different from the pictures | the design is bulky | "
                          "the finish attracts fingerprints")),
    ("zh", "battery"): (_s("续航很给力，一天一充完全够用 | 电池很耐用 | 充一次电能用好几天 | 续航超出预期 | 电池完全不用担心"),
                        _s("电池不耐用 | 电池掉电太快 | 续航太差了，半天就没电 | 一天要充两次电 | 续航跟宣传的差太远 | 用了一个月电池就不行了")),
    ("zh", "sound"): (_s("音质很好，低音很足 | 声音清晰，人声很干净 | 降噪效果很明显 | 通话很清楚"),
                      _s("音质很差，声音发闷 | 有杂音 | 低音很弱 | 声音断断续续 | 麦克风效果很差")),
    ("zh", "comfort"): (_s("用起来很舒服 | 长时间使用也不累 | 舒适度很好"), _s("用久了不舒服 | 一点都不舒服 | 用一会儿就难受")),
    ("zh", "fit"): (_s("尺码很标准 | 大小刚刚好 | 按平时的码数买的，很合脚"),
                    _s("尺码偏小 | 偏大一码 | 太挤脚 | 尺码和尺码表不一样，只能换货")),
    ("zh", "quality"): (_s("做工精致 | 质量很好，很结实 | 用料扎实 | 用了几个月没有任何问题 | 手感很好"),
                        _s("做工粗糙 | 质量太差了 | 不耐用，很快就坏了 | 用了一个月就坏了 | 第二天就坏了 | 收到的是坏的 | 塑料感很强，很廉价")),
    ("zh", "delivery"): (_s("物流很快 | 快递给力，第二天就到了 | 包装很好 | 送货速度很快，快递员态度好 | 比预计提前到了"),
                         _s("物流太慢了 | 快递一个星期才到 | 包装破损 | 快递一直拖着不送 | 外箱都压坏了")),
    ("zh", "value"): (_s("性价比很高 | 物有所值 | 价格实惠 | 这个价格买到很值 | 比大牌便宜，效果差不多"),
                      _s("性价比太低 | 太贵了，不值这个价 | 价格虚高 | 同样的钱可以买更好的 | 买贵了，后悔")),
    ("zh", "performance"): (_s("用起来没毛病 | 功能都很好用 | 一直很稳定"), _s("经常失灵 | 跟描述的功能不一样 | 很不稳定")),
    ("zh", "camera"): (_s("拍照很清晰 | 夜景拍得很好 | 人像模式效果很棒"), _s("拍照很模糊 | 夜拍噪点很多 | 对焦很慢 | 自拍发白")),
    ("zh", "display"): (_s("屏幕很清晰 | 显示效果很好 | 阳光下也看得清 | 屏幕很细腻"), _s("屏幕偏暗 | 屏幕发黄 | 屏幕有坏点 | 屏幕容易刮花")),
    ("zh", "effect"): (_s("用了皮肤水水的 | 很保湿 | 吸收很快，不油腻 | 用了两周痘痘少了 | 皮肤变亮了"),
                       _s("用了过敏 | 用完长痘了 | 用了一个月没什么效果 | 很油腻 | 搓泥")),
    ("zh", "design"): (_s("外观很漂亮 | 颜值很高 | 颜色和图片一样 | 设计很简约"), _s("外观一般，有点丑 | 颜色和图片不一样 | 太笨重了 | 很容易留指纹")),
}

# (lang, aspect, category) -> clauses that replace the generic ones for that category
CATEGORY_CLAUSES = {
    ("en", "comfort", "headphones"): (_s("no ear pain even after a full day | the ear cushions are soft | "
                                         "they stay put during workouts | comfortable enough for long flights"),
                                      _s("they press hard on my ears | my ears hurt after an hour | "
                                         "they keep falling out of my ears")),
    ("en", "comfort", "running_shoes"): (_s("the cushioning is soft and springy | it feels like running on clouds | "
                                            "my feet stay fresh even after a long run"),
                                         _s("my feet ache after a short run | the sole is too hard | "
                                            "they gave me blisters in the first week")),
    ("en", "comfort", "backpacks"): (_s("the shoulder straps are well padded | carrying it all day is no strain"),
                                     _s("the straps dig into my shoulders | the back panel gets sweaty and uncomfortable")),
    ("en", "comfort", "smart_watches"): (_s("the strap is soft on the wrist | it is light enough to wear while sleeping"),
                                         _s("the strap irritates my skin | it is too bulky to wear at night")),
    ("en", "quality", "running_shoes"): (_s("the sole has great grip | they still look new after 300 km | "
                                            "the stitching is neat and strong"),
                                         _s("the sole came off in two months | the stitching tore within weeks | "
                                            "they look worn out after a month")),
    ("en", "quality", "backpacks"): (_s("the zips are smooth and strong | the stitching is neat and strong | "
                                        "the fabric feels tough"),
                                     _s("the zip broke in a month | the stitching came apart | the fabric tore quickly")),
    ("en", "quality", "skincare"): (_s("the texture is light and smooth | the packaging is leak-proof and hygienic"),
                                    _s("the pump broke within a week | it smells odd, like it has gone bad | "
                                       "the bottle leaked in the box")),
    ("en", "performance", "phones"): (_s("there is no lag even with many apps open | it handles gaming easily | "
                                         "apps open instantly | it stays cool under load"),
                                      _s("it lags a lot | it heats up quickly | it hangs several times a day | "
                                         "apps keep crashing | it gets slow after a few weeks")),
    ("en", "performance", "laptops"): (_s("it boots up in seconds | it handles heavy multitasking easily | "
                                          "it runs smoothly even with many tabs open | the fans stay quiet"),
                                       _s("it lags a lot | it heats up quickly | it hangs several times a day | "
                                          "the fans are loud all the time | it gets slow after a few weeks")),
    ("en", "performance", "kitchen"): (_s("it heats up in no time | it blends everything smoothly | "
                                          "it cooks evenly and fast | the motor is powerful"),
                                       _s("the motor is weak | it makes a terrible noise | food comes out unevenly cooked | "
                                          "it trips the power every time")),
    ("en", "performance", "cables"): (_s("it charges my phone really fast | fast charging works perfectly | "
                                         "data transfer is quick"),
                                      _s("it charges very slowly | it stops charging if I move the cable | "
                                         "my phone says the accessory is not supported | it gets very hot while charging")),
    ("en", "performance", "smart_watches"): (_s("step count and heart rate are accurate | GPS locks on within seconds | "
                                                "notifications come through instantly"),
                                             _s("the step count is way off | heart rate readings jump all over the place | "
                                                "it keeps disconnecting from my phone")),
    ("zh", "comfort", "headphones"): (_s("戴久了耳朵也不疼 | 耳罩很软 | 运动的时候也不会掉"),
                                      _s("戴久了耳朵疼 | 夹头 | 老是从耳朵里掉出来")),
    ("zh", "comfort", "running_shoes"): (_s("穿着很舒服，像踩在云上 | 鞋底很软，很有弹性 | 跑步很轻便"),
                                         _s("磨脚 | 鞋底太硬 | 跑几公里脚就疼")),
    ("zh", "comfort", "backpacks"): (_s("背着很舒服 | 肩带很厚实，不勒肩膀"), _s("勒肩膀 | 背久了肩膀疼")),
    ("zh", "comfort", "smart_watches"): (_s("表带很软，戴着很舒服 | 很轻，睡觉戴也没感觉"), _s("表带戴着过敏 | 太厚重，晚上戴不舒服")),
    ("zh", "quality", "running_shoes"): (_s("鞋底抓地力很好 | 跑了几百公里还像新的"), _s("鞋底开胶了 | 没穿多久就开线了")),
    ("zh", "quality", "backpacks"): (_s("拉链很顺滑 | 走线很整齐 | 面料很结实"), _s("拉链一个月就坏了 | 缝线开了 | 面料很薄，一下就破了")),
    ("zh", "quality", "skincare"): (_s("质地很细腻 | 包装很严实，没有漏"), _s("按压泵头一周就坏了 | 有股怪味 | 瓶子漏了")),
    ("zh", "performance", "phones"): (_s("运行很流畅 | 打游戏也不卡 | 多开应用也不卡 | 不怎么发热"),
                                      _s("很卡 | 发热严重 | 经常死机 | 应用老是闪退 | 用了几周就变慢了")),
    ("zh", "performance", "laptops"): (_s("开机很快 | 运行很流畅 | 多开软件也不卡 | 风扇很安静"),
                                       _s("很卡 | 发热严重 | 经常死机 | 风扇噪音很大 | 用了几周就变慢了")),
    ("zh", "performance", "kitchen"): (_s("加热很快 | 打得很细腻 | 火力很足 | 电机很有劲"), _s("电机没劲 | 噪音很大 | 受热不均匀 | 一用就跳闸")),
    ("zh", "performance", "cables"): (_s("充电很快 | 快充很稳定 | 传输速度很快"),
                                      _s("充电很慢 | 接触不良，动一下就断 | 手机提示不支持该配件 | 充电的时候很烫")),
    ("zh", "performance", "smart_watches"): (_s("计步很准 | 心率监测很准 | GPS定位很快 | 消息提醒很及时"),
                                             _s("计步不准 | 心率数据乱跳 | 老是断开连接")),
}

# joining clauses: same polarity vs contrasting polarity
JOIN_SAME = {"en": (" and ", ", and ", ". Also, ", ", plus ", ". "), "zh": ("，", "，而且", "，还有", "。另外", "，")}
# contrast, by the polarity of the clause that follows: praise then a complaint, or a complaint then praise
JOIN_CONTRAST = {
    ("en", "neg"): (" but ", ", but ", ". However, ", ", although ", ". On the other hand, ", ", though ", ". Sadly, "),
    ("en", "pos"): (" but ", ", but ", ". However, ", ", although ", ". On the bright side, ", ". Still, "),
    ("zh", "neg"): ("，但是", "，不过", "，可是", "，就是", "，唯一不足的是", "。但"),
    ("zh", "pos"): ("，但是", "，不过", "，好在", "，还好", "。但"),
}

OPENERS = {
    "en": _s("Bought this for my brother. | Using it for two weeks now. | Ordered it during the sale. | "
             "Second purchase from this brand. | Got it as a gift for my wife. | Been using it daily for a month. | "
             "Replaced my old one with this. | Honest review after three weeks."),
    "zh": _s("买来送给男朋友的。 | 用了一个星期了。 | 趁活动买的。 | 第二次购买了。 | 给爸妈买的。 | 用了一个月来评价一下。 | "
             "替换旧的买的。 | 朋友推荐买的。"),
}

# stars -> overall remarks, review titles
CLOSERS = {
    "en": {5: _s("Highly recommended! | Love it! | Totally worth the money. | Would buy again. | Very happy with it. | "
                 "Works great, easy to set up. | Exactly what I was looking for. | My whole family loves it. | "
                 "Perfect, no complaints at all."),
           4: _s("Happy with the purchase overall. | Good buy. | Recommended. | Satisfied overall. | "
                 "Works well for everyday use. | Does everything I need. | Pretty good overall."),
           3: _s("It's okay for the price. | Mixed feelings overall. | Average product. | Not sure I would buy again. | "
                 "It works, but nothing more. | Neither good nor bad."),
           2: _s("Not happy with it. | I expected more. | Would not buy again. | Disappointed overall. | "
                 "Doesn't work as well as I hoped. | Customer support was no help."),
           1: _s("Total waste of money. | Returning it. | Avoid this one. | Very disappointed. | Worst purchase ever. | "
                 "Stopped working after a few days. | Doesn't work at all. | Had to send it back. | Useless.")},
    "zh": {5: _s("强烈推荐！ | 非常满意，五星好评。 | 买得值！ | 还会回购的。 | 很喜欢！ | 东西很好，跟描述的一样。 | "
                 "好评，全家都喜欢。 | 完美，挑不出毛病。"),
           4: _s("总体满意。 | 还不错，推荐。 | 整体挺好的。 | 值得购买。 | 用着挺顺手的。 | 东西不错。"),
           3: _s("一般吧，凑合用。 | 中规中矩。 | 感觉一般。 | 不好不坏。 | 能用，但也就那样。"),
           2: _s("不太满意。 | 有点失望。 | 不会再买了。 | 不推荐。 | 客服也不怎么理人。 | 没有想象中好。"),
           1: _s("垃圾，千万别买！ | 非常失望，已经申请退货。 | 差评！ | 浪费钱。 | 后悔买了。 | 收到就是坏的。 | "
                 "客服态度很差，问题也不解决。 | 跟描述完全不一样，退货了。")},
}
TITLES = {
    "en": {5: _s("Excellent | Love it | Great value | Five stars | Superb product | Best purchase this year"),
           4: _s("Very good | Solid choice | Worth it | Good product | Pretty good"),
           3: _s("Decent | Okay-ish | Average | It's fine | Could be better"),
           2: _s("Disappointing | Not great | Expected better | Meh"),
           1: _s("Terrible | Waste of money | Do not buy | Awful | Very bad")},
    "zh": {5: _s("非常好 | 很满意 | 物超所值 | 五星好评 | 超级推荐"), 4: _s("还不错 | 挺好的 | 值得购买 | 满意"),
           3: _s("一般 | 还行 | 凑合 | 中规中矩"), 2: _s("不太满意 | 有点失望 | 不推荐"), 1: _s("失望 | 差评 | 别买 | 太差了")},
}
