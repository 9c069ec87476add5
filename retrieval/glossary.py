"""A Chinese -> English glossary of common shopping terms, for cross-lingual query expansion.

A Chinese query against a mostly English catalog keeps its own words (the multilingual embedder
reads them) and gains the English names of the product words it contains, so BM25 can match
titles too ("无线蓝牙耳机" -> "wireless bluetooth earphones headphones earbuds"). Dictionary-based
query translation, as in classic cross-language retrieval. Knows nothing about any catalog.
"""
from __future__ import annotations

# Longest keys are matched first; values are space-separated English terms.
ZH_EN = {
    # audio
    "耳机": "earphones headphones earbuds", "蓝牙耳机": "bluetooth earphones earbuds", "头戴": "over-ear headphones",
    "入耳": "in-ear", "降噪": "noise cancelling", "音箱": "speaker", "音响": "speaker soundbar", "蓝牙": "bluetooth",
    "无线": "wireless", "有线": "wired", "麦克风": "microphone mic", "回音壁": "soundbar", "低音": "bass",
    # phones and computing
    "手机": "smartphone phone mobile", "智能手机": "smartphone", "平板": "tablet", "平板电脑": "tablet",
    "笔记本": "laptop notebook", "笔记本电脑": "laptop", "电脑": "computer laptop pc", "键盘": "keyboard",
    "机械键盘": "mechanical keyboard", "鼠标": "mouse", "鼠标垫": "mouse pad", "显示器": "monitor", "路由器": "router wifi",
    "网卡": "wifi adapter", "硬盘": "hard disk drive", "固态硬盘": "ssd", "移动硬盘": "external hard drive", "内存卡": "memory card",
    "存储卡": "memory card sd", "u盘": "pen drive usb flash drive", "优盘": "pen drive usb flash drive", "摄像头": "webcam camera",
    "打印机": "printer", "墨盒": "ink cartridge", "投影仪": "projector", "手写笔": "stylus pen",
    # charging and cables
    "充电宝": "power bank", "移动电源": "power bank", "充电器": "charger adapter", "快充": "fast charging",
    "数据线": "cable", "充电线": "charging cable", "线": "cable", "转换器": "adapter converter", "转接头": "adapter",
    "扩展坞": "hub dock", "插座": "socket extension board", "排插": "extension board power strip", "电池": "battery",
    "手机壳": "phone case cover", "保护壳": "case cover", "钢化膜": "tempered glass screen protector", "贴膜": "screen protector",
    "手机支架": "phone stand holder", "支架": "stand holder mount", "车载": "car", "自拍杆": "selfie stick",
    # tv and video
    "电视": "tv television", "智能电视": "smart tv", "电视机": "tv television", "遥控器": "remote control",
    "电视盒子": "streaming device fire tv stick", "相机": "camera", "监控": "security camera cctv",
    # wearables
    "手表": "watch", "智能手表": "smartwatch smart watch", "手环": "fitness band", "通话": "calling",
    # kitchen
    "电热水壶": "electric kettle", "热水壶": "kettle", "水壶": "kettle bottle", "空气炸锅": "air fryer",
    "电饭煲": "rice cooker", "电饭锅": "rice cooker", "榨汁机": "juicer", "搅拌机": "mixer grinder blender",
    "料理机": "mixer grinder blender", "破壁机": "blender", "咖啡机": "coffee maker", "烤箱": "oven toaster",
    "微波炉": "microwave", "电磁炉": "induction cooktop", "燃气灶": "gas stove", "锅": "pan cookware", "不粘锅": "non-stick pan",
    "刀": "knife", "菜刀": "kitchen knife", "砧板": "chopping board", "保温杯": "insulated bottle flask", "净水器": "water purifier",
    "三明治机": "sandwich maker", "华夫饼机": "waffle maker", "打蛋器": "hand mixer beater", "蒸锅": "steamer",
    "切菜器": "vegetable chopper cutter", "电动": "electric",
    # home appliances
    "吸尘器": "vacuum cleaner", "扫地机器人": "robot vacuum", "加湿器": "humidifier", "空气净化器": "air purifier",
    "电风扇": "fan", "风扇": "fan", "暖风机": "room heater fan heater", "取暖器": "room heater", "电暖器": "room heater",
    "热水器": "water heater geyser", "空调": "air conditioner ac", "冰箱": "refrigerator fridge", "洗衣机": "washing machine",
    "熨斗": "iron", "电熨斗": "electric iron", "蒸汽挂烫机": "garment steamer", "灯": "lamp light", "台灯": "desk lamp",
    "灯泡": "bulb led", "插线板": "extension board", "稳压器": "stabilizer", "不间断电源": "ups",
    # personal care
    "剃须刀": "trimmer shaver", "理发器": "hair clipper trimmer", "吹风机": "hair dryer", "卷发棒": "hair curler",
    "直发器": "hair straightener", "电动牙刷": "electric toothbrush", "体重秤": "weighing scale", "按摩": "massager",
    # office
    "笔": "pen", "圆珠笔": "ball pen", "笔记本子": "notebook", "计算器": "calculator", "文件夹": "file folder",
    "胶水": "glue", "剪刀": "scissors", "白板": "whiteboard", "颜料": "paint colours",
    # attributes
    "便宜": "cheap budget", "防水": "waterproof", "快速": "fast", "大容量": "large capacity", "便携": "portable",
    "迷你": "mini", "黑色": "black", "白色": "white", "红色": "red", "蓝色": "blue", "不锈钢": "stainless steel",
    "升": "litre", "毫安": "mah", "英寸": "inch", "寸": "inch", "瓦": "watt", "桌面": "desk table",
    "家用": "home", "智能": "smart", "高清": "hd", "游戏": "gaming", "运动": "sports", "儿童": "kids",
    "小米": "mi xiaomi redmi", "红米": "redmi", "三星": "samsung", "苹果": "apple iphone", "华为": "huawei",
    "索尼": "sony", "飞利浦": "philips", "联想": "lenovo", "罗技": "logitech", "惠普": "hp", "戴尔": "dell",
}
_KEYS = sorted(ZH_EN, key=len, reverse=True)


def expand_zh(query: str) -> str:
    """English terms for the Chinese shopping words in `query` (empty when there are none)."""
    rest, terms = query.lower(), []
    for key in _KEYS:
        if key in rest:
            terms.append(ZH_EN[key])
            rest = rest.replace(key, " ")
    return " ".join(dict.fromkeys(" ".join(terms).split()))
